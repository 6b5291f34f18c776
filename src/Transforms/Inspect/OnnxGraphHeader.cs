using System.Collections.Generic;
using System.IO;
using Google.Protobuf;

namespace MlNotes.Transforms.Inspect;

/// <summary>
/// What ONNX Runtime's <c>ModelMetadata</c> does not give: the IR version, the producer's version and the operator sets, read from
/// the top of the <c>ModelProto</c> (fields 1, 3 and 8 of onnx.proto) with Google.Protobuf; the graph (field 7) is skipped.
/// </summary>
internal sealed record OnnxGraphHeader(long IrVersion, string ProducerVersion, IReadOnlyDictionary<string, long> Opsets)
{
    private const int IrVersionField = 1, ProducerVersionField = 3, OpsetImportField = 8;

    /// <exception cref="InvalidDataException">The bytes are not an ONNX ModelProto, naming <paramref name="modelName"/>.</exception>
    public static OnnxGraphHeader Read(byte[] bytes, string modelName)
    {
        long ir = 0;
        string producerVersion = "";
        var opsets = new SortedDictionary<string, long>(System.StringComparer.Ordinal);
        try
        {
            var input = new CodedInputStream(bytes);
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                var wire = WireFormat.GetTagWireType(tag);
                switch (WireFormat.GetTagFieldNumber(tag))
                {
                    case IrVersionField when wire == WireFormat.WireType.Varint:
                        ir = input.ReadInt64();
                        break;
                    case ProducerVersionField when wire == WireFormat.WireType.LengthDelimited:
                        producerVersion = input.ReadString();
                        break;
                    case OpsetImportField when wire == WireFormat.WireType.LengthDelimited:
                        var (domain, version) = ReadOpset(input.ReadBytes());
                        opsets[domain] = version;
                        break;
                    default:
                        input.SkipLastField();
                        break;
                }
            }
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"The file {modelName} is not an ONNX model (its bytes are not an ONNX ModelProto: {e.Message}).", e);
        }

        return new OnnxGraphHeader(ir, producerVersion, opsets);
    }

    // OperatorSetIdProto: domain (1, "" for the default ai.onnx), version (2).
    private static (string Domain, long Version) ReadOpset(ByteString message)
    {
        var input = new CodedInputStream(message.ToByteArray());
        string domain = "";
        long version = 0;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1 when WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited:
                    domain = input.ReadString();
                    break;
                case 2 when WireFormat.GetTagWireType(tag) == WireFormat.WireType.Varint:
                    version = input.ReadInt64();
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }

        return (domain, version);
    }
}
