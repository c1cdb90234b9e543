using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace EvolverActors.Tensors.Onnx;

/// <summary>An ONNX initializer: its name, element type, shape and little-endian payload.</summary>
public sealed record OnnxInitializer(string Name, int DataType, long[] Dims, ReadOnlyMemory<byte> RawData, float[]? FloatData)
{
    /// <summary>TensorProto.DataType.FLOAT.</summary>
    public const int Float = 1;

    public bool IsFloat => DataType == Float;

    /// <summary>A new float32 CPU tensor with this initializer's shape and values.</summary>
    public Tensor ToTensor()
    {
        if (!IsFloat)
        {
            throw new EvolverException($"ONNX initializer '{Name}' has data type {DataType}, not float32");
        }
        var count = Dims.Aggregate(1L, (a, d) => a * d);
        float[] values;
        if (FloatData is not null && FloatData.Length > 0)
        {
            values = FloatData;
        }
        else
        {
            // raw_data is little-endian by the ONNX spec, as is every machine TorchSharp runs on.
            values = MemoryMarshal.Cast<byte, float>(RawData.Span).ToArray();
        }
        if (values.Length != count)
        {
            throw new EvolverException($"ONNX initializer '{Name}' holds {values.Length} values for shape [{string.Join(", ", Dims)}]");
        }
        return tensor(values, Dims);
    }
}

/// <summary>One operator of the graph: its type and the names of the values it reads and writes.</summary>
public sealed record OnnxNode(string Name, string OpType, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs);

/// <summary>
/// The parts of an ONNX model that an import needs: initializers (the weights), nodes (to name anonymous
/// weights by the operators around them), and the graph's input and output names.
/// Field numbers are those of onnx.proto3 (ModelProto.graph = 7; GraphProto node = 1, initializer = 5,
/// input = 11, output = 12; TensorProto dims = 1, data_type = 2, float_data = 4, name = 8, raw_data = 9,
/// data_location = 14; NodeProto input = 1, output = 2, name = 3, op_type = 4; ValueInfoProto name = 1).
/// </summary>
public sealed class OnnxGraph
{
    private OnnxGraph(IReadOnlyDictionary<string, OnnxInitializer> initializers, IReadOnlyList<OnnxNode> nodes,
        IReadOnlyList<string> inputs, IReadOnlyList<string> outputs)
    {
        Initializers = initializers;
        Nodes = nodes;
        Inputs = inputs;
        Outputs = outputs;
    }

    /// <summary>Initializers by name, in file order.</summary>
    public IReadOnlyDictionary<string, OnnxInitializer> Initializers { get; }
    public IReadOnlyList<OnnxNode> Nodes { get; }

    /// <summary>Graph inputs that are not initializers (what a caller feeds).</summary>
    public IReadOnlyList<string> Inputs { get; }
    public IReadOnlyList<string> Outputs { get; }

    /// <summary>Parses a whole .onnx file held in memory; <paramref name="source"/> names it in errors.</summary>
    public static OnnxGraph Parse(ReadOnlyMemory<byte> model, string source)
    {
        var reader = new ProtoReader(model, source);
        ProtoReader? graph = null;
        while (reader.Next(out var field, out var wire))
        {
            if (field == 7 && wire == ProtoReader.LengthDelimited)
            {
                graph = reader.ReadMessage();
            }
            else
            {
                reader.Skip(wire);
            }
        }
        if (graph is not { } g)
        {
            throw new EvolverException($"{source}: ONNX model has no graph");
        }
        return ParseGraph(g, source);
    }

    private static OnnxGraph ParseGraph(ProtoReader reader, string source)
    {
        var initializers = new Dictionary<string, OnnxInitializer>(StringComparer.Ordinal);
        var nodes = new List<OnnxNode>();
        var inputs = new List<string>();
        var outputs = new List<string>();
        while (reader.Next(out var field, out var wire))
        {
            switch (field)
            {
                case 1 when wire == ProtoReader.LengthDelimited:
                    nodes.Add(ParseNode(reader.ReadMessage()));
                    break;
                case 5 when wire == ProtoReader.LengthDelimited:
                    var initializer = ParseTensor(reader.ReadMessage(), source);
                    initializers[initializer.Name] = initializer;
                    break;
                case 11 or 12 when wire == ProtoReader.LengthDelimited:
                    (field == 11 ? inputs : outputs).Add(ParseValueInfoName(reader.ReadMessage()));
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }
        // Old exporters list initializers among the graph inputs too; callers only feed the others.
        inputs.RemoveAll(initializers.ContainsKey);
        return new OnnxGraph(initializers, nodes, inputs, outputs);
    }

    private static OnnxNode ParseNode(ProtoReader reader)
    {
        var (name, opType) = ("", "");
        var inputs = new List<string>();
        var outputs = new List<string>();
        while (reader.Next(out var field, out var wire))
        {
            switch (field)
            {
                case 1 when wire == ProtoReader.LengthDelimited:
                    inputs.Add(reader.ReadString());
                    break;
                case 2 when wire == ProtoReader.LengthDelimited:
                    outputs.Add(reader.ReadString());
                    break;
                case 3 when wire == ProtoReader.LengthDelimited:
                    name = reader.ReadString();
                    break;
                case 4 when wire == ProtoReader.LengthDelimited:
                    opType = reader.ReadString();
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }
        return new OnnxNode(name, opType, inputs, outputs);
    }

    private static OnnxInitializer ParseTensor(ProtoReader reader, string source)
    {
        var dims = new List<long>();
        var (dataType, name, raw) = (0, "", ReadOnlyMemory<byte>.Empty);
        List<float>? floats = null;
        while (reader.Next(out var field, out var wire))
        {
            switch (field)
            {
                case 1:
                    reader.ReadInt64s(wire, dims);
                    break;
                case 2 when wire == ProtoReader.Varint:
                    dataType = reader.ReadInt32();
                    break;
                case 4 when wire == ProtoReader.LengthDelimited:
                    // Packed float_data: small tensors written by some exporters instead of raw_data.
                    floats ??= [];
                    floats.AddRange(MemoryMarshal.Cast<byte, float>(reader.ReadBytes().Span).ToArray());
                    break;
                case 8 when wire == ProtoReader.LengthDelimited:
                    name = reader.ReadString();
                    break;
                case 9 when wire == ProtoReader.LengthDelimited:
                    raw = reader.ReadBytes();
                    break;
                case 14 when wire == ProtoReader.Varint:
                    if (reader.ReadInt32() != 0)
                    {
                        throw new EvolverException($"{source}: initializer '{name}' keeps its data in an external file, which is not supported");
                    }
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }
        return new OnnxInitializer(name, dataType, [.. dims], raw, floats?.ToArray());
    }

    private static string ParseValueInfoName(ProtoReader reader)
    {
        var name = "";
        while (reader.Next(out var field, out var wire))
        {
            if (field == 1 && wire == ProtoReader.LengthDelimited)
            {
                name = reader.ReadString();
            }
            else
            {
                reader.Skip(wire);
            }
        }
        return name;
    }
}
