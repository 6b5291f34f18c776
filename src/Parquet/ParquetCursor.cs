using System;
using System.Collections.Generic;
using System.IO;
using Microsoft.ML;
using Microsoft.ML.Data;
using Parquet;

namespace MlNotes.Parquet;

/// <summary>Moves through the view's files and their row groups, loading one row group of the active columns at a time.</summary>
internal sealed class ParquetCursor : DataViewRowCursor
{
    private readonly ParquetDataView _view;
    private readonly HashSet<int> _active;
    private readonly Delegate?[] _getters;
    private ParquetColumn[] _columns = [];
    private FileStream? _stream;
    private ParquetReader? _reader;
    private int _file = -1, _rowGroup, _rowGroupRows, _row;
    private long _position = -1;
    private bool _done, _disposed;

    public ParquetCursor(ParquetDataView view, HashSet<int> active)
    {
        _view = view;
        _active = active;
        _getters = new Delegate?[view.Schema.Count];
        NextFile();
    }

    public override DataViewSchema Schema => _view.Schema;

    public override long Position => _position;

    public override long Batch => 0;

    public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

    public override bool MoveNext()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_done)
        {
            return false;
        }

        while (++_row >= _rowGroupRows)
        {
            if (_reader == null || ++_rowGroup >= _reader.RowGroupCount)
            {
                if (!NextFile())
                {
                    _done = true;
                    return false;
                }

                continue;
            }

            LoadRowGroup();
        }

        _position++;
        return true;
    }

    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
    {
        if (!_active.Contains(column.Index))
        {
            throw new InvalidOperationException($"Column '{column.Name}' is not active in this cursor.");
        }

        var getter = _getters[column.Index] ??= _columns[column.Index].MakeGetter(() => _row);
        return getter as ValueGetter<TValue>
            ?? throw new InvalidOperationException($"Invalid TValue in GetGetter for column '{column.Name}': expected {_columns[column.Index].Type.RawType}, got {typeof(TValue)}.");
    }

    public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId value) => value = new DataViewRowId((ulong)_position, 0);

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            CloseFile();
            _disposed = true;
        }

        base.Dispose(disposing);
    }

    private bool NextFile()
    {
        CloseFile();
        _rowGroupRows = 0;
        _row = 0;
        if (++_file >= _view.Files.Count)
        {
            return false;
        }

        string file = _view.Files[_file];
        _stream = File.OpenRead(file);
        _reader = ParquetReader.CreateAsync(_stream).GetAwaiter().GetResult();
        var columns = _view.Map(_reader.Schema, file);
        if (_columns.Length == 0)
        {
            _columns = columns;
        }
        else
        {
            // Keep the buffers the getters already point at (the view checked that every footer maps alike); read this file's fields.
            for (int c = 0; c < columns.Length; c++)
            {
                _columns[c].Field = columns[c].Field;
            }
        }

        _rowGroup = -1;
        return true;
    }

    private void CloseFile()
    {
        _reader?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _stream?.Dispose();
        _reader = null;
        _stream = null;
    }

    private void LoadRowGroup()
    {
        string file = _view.Files[_file];
        using var rowGroup = _reader!.OpenRowGroupReader(_rowGroup);
        _rowGroupRows = checked((int)rowGroup.RowCount);
        _row = -1;
        string where = $"row group {_rowGroup} of '{file}'";
        long buffered = 0;
        foreach (int index in _active)
        {
            var column = _columns[index];
            column.LoadAsync(rowGroup, _rowGroupRows, where).GetAwaiter().GetResult();
            buffered += column.BufferedValues;
        }

        _view.ReportBuffered(buffered);
    }
}
