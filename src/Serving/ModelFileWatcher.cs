using System;
using System.IO;
using System.Threading;

namespace MlNotes.Serving;

/// <summary>
/// Calls back when a model file is written or renamed over, once the events have been quiet for <see cref="Quiet"/> (a copy
/// raises several). Renaming a finished file over the watched one is the way to replace a model atomically.
/// </summary>
internal sealed class ModelFileWatcher : IDisposable
{
    public static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(150);

    private readonly FileSystemWatcher _watcher;
    private readonly Timer _timer;
    private readonly string _fileName;
    private int _disposed;

    public ModelFileWatcher(string path, Action changed)
    {
        string folder = Path.GetDirectoryName(path) ?? ".";
        _fileName = Path.GetFileName(path);
        _timer = new Timer(_ => { if (Volatile.Read(ref _disposed) == 0) { changed(); } });
        _watcher = new FileSystemWatcher(folder, _fileName)
        {
            NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
        };
        _watcher.Changed += OnEvent;
        _watcher.Created += OnEvent;
        _watcher.Renamed += OnEvent;
        _watcher.EnableRaisingEvents = true;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _watcher.Dispose();
            _timer.Dispose();
        }
    }

    private void OnEvent(object sender, FileSystemEventArgs e)
    {
        if (string.Equals(e.Name, _fileName, StringComparison.Ordinal) && Volatile.Read(ref _disposed) == 0)
        {
            try
            {
                _timer.Change(Quiet, Timeout.InfiniteTimeSpan);
            }
            catch (ObjectDisposedException)
            {
                // Disposed between the check and the call.
            }
        }
    }
}
