namespace EvolverActors.Tensors.Onnx;

/// <summary>
/// A minimal protocol-buffers wire reader over a byte block: enough to walk ONNX's ModelProto without
/// generated classes. Sub-messages and byte fields are slices of the same block, so a 90 MB model is
/// never copied while it is parsed.
/// </summary>
internal struct ProtoReader(ReadOnlyMemory<byte> data, string source)
{
    public const int Varint = 0;
    public const int Fixed64 = 1;
    public const int LengthDelimited = 2;
    public const int Fixed32 = 5;

    private readonly ReadOnlyMemory<byte> _data = data;
    private int _position;

    /// <summary>Moves to the next field; false at the end of the block.</summary>
    public bool Next(out int field, out int wireType)
    {
        if (_position >= _data.Length)
        {
            field = 0;
            wireType = 0;
            return false;
        }
        var key = ReadVarint();
        field = (int)(key >> 3);
        wireType = (int)(key & 7);
        return true;
    }

    public ulong ReadVarint()
    {
        var span = _data.Span;
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (_position >= span.Length)
            {
                throw Malformed("varint runs past the end");
            }
            var b = span[_position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
        throw Malformed("varint longer than 10 bytes");
    }

    public long ReadInt64() => (long)ReadVarint();

    public int ReadInt32() => (int)ReadVarint();

    public ReadOnlyMemory<byte> ReadBytes()
    {
        var length = ReadVarint();
        if (length > (ulong)(_data.Length - _position))
        {
            throw Malformed("length-delimited field runs past the end");
        }
        var slice = _data.Slice(_position, (int)length);
        _position += (int)length;
        return slice;
    }

    public string ReadString() => System.Text.Encoding.UTF8.GetString(ReadBytes().Span);

    public ProtoReader ReadMessage() => new(ReadBytes(), source);

    /// <summary>A repeated int64 field, packed (one length-delimited block) or not (one varint).</summary>
    public void ReadInt64s(int wireType, List<long> into)
    {
        if (wireType == LengthDelimited)
        {
            var packed = ReadMessage();
            while (packed._position < packed._data.Length)
            {
                into.Add(packed.ReadInt64());
            }
        }
        else
        {
            into.Add(ReadInt64());
        }
    }

    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case Varint:
                ReadVarint();
                break;
            case Fixed64:
                Advance(8);
                break;
            case LengthDelimited:
                ReadBytes();
                break;
            case Fixed32:
                Advance(4);
                break;
            default:
                throw Malformed($"unsupported wire type {wireType}");
        }
    }

    private void Advance(int count)
    {
        if (count > _data.Length - _position)
        {
            throw Malformed("fixed-size field runs past the end");
        }
        _position += count;
    }

    private readonly EvolverException Malformed(string problem) => new($"{source}: not a valid ONNX protobuf ({problem})");
}
