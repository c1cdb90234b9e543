using EvolverActors.Tensors.Checkpoints;
using EvolverActors.Tensors.Native;
using EvolverActors.Tensors.Operators;
using EvolverActors.Tensors.Weights;
using EvolverActors.Tests.Checkpoints;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Native;

public sealed class WeightBuffersTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Mixed dtypes, an empty tensor, a tensor spanning chunks and sizes that are not multiples of 64 bytes.</summary>
    private static WeightSet Model(long seed)
    {
        using var generator = new Generator((ulong)seed);
        return WeightSet.Adopt(
        [
            ("a.weight", randn([300, 1000], generator: generator)),
            ("a.bias", randn([7], generator: generator)),
            ("empty", empty(0)),
            ("pos", arange(5L)),
            ("half", randn([33], generator: generator).to(ScalarType.Float16)),
            ("b.weight", randn([1 << 19], generator: generator)),
        ]);
    }

    [Fact]
    public unsafe void Allocate_gives_the_layout_as_separate_aligned_contiguous_cpu_tensors()
    {
        using var like = Model(1);
        var live = WeightSet.LiveTensors;
        using (var buffer = WeightBuffers.Allocate(like.Layout))
        {
            Assert.True(WeightBuffers.HasLayout(buffer, like.Layout));
            foreach (var (_, tensor) in buffer.Entries())
            {
                Assert.True(tensor.is_contiguous());
                Assert.Equal(TorchSharp.DeviceType.CPU, tensor.device_type);
                Assert.Equal(0, (long)TensorMemory.BytePointer(tensor) % 64);
            }
            // No two tensors share memory: each keeps what was written to it.
            buffer.CopyFrom(like);
            for (var t = 0; t < like.Count; t++)
            {
                Assert.True(buffer[t].eq(like[t]).all().item<bool>());
            }
        }
        Assert.Equal(live, WeightSet.LiveTensors);
    }

    [Fact]
    public void HasLayout_tells_a_different_layout()
    {
        using var like = Model(1);
        using var other = WeightSet.Adopt([("a.weight", zeros(300, 1000))]);
        Assert.False(WeightBuffers.HasLayout(other, like.Layout));
    }

    [Fact]
    public void A_checkpoint_loaded_into_a_buffer_equals_a_plain_load()
    {
        using var model = Model(2);
        var path = _dir.File("model");
        Checkpoint.Save(path, model);
        using var plain = Checkpoint.Load(path);
        using var loaded = Checkpoint.LoadInto(path, WeightBuffers.Allocate);
        Assert.Equal(WeightHash.Of(plain), WeightHash.Of(loaded));
    }

    [Fact]
    public void A_buffer_of_another_layout_is_refused_and_disposed()
    {
        using var model = Model(2);
        var path = _dir.File("model");
        Checkpoint.Save(path, model);
        var live = WeightSet.LiveTensors;
        Assert.Throws<ArgumentException>(() => Checkpoint.LoadInto(path, _ => WeightSet.Adopt([("a.weight", zeros(1))])));
        Assert.Equal(live, WeightSet.LiveTensors);
    }

    [Fact]
    public void A_child_built_into_a_buffer_is_bit_identical_to_one_built_into_fresh_tensors()
    {
        using var target = Model(3);
        using var reference = Model(4);
        var op = OperatorRegistry.Get("evolver");
        var settings = new BreedingSettings { F = 0.5, CR = 0.5 };
        using var fresh = OffspringBuilder.Build(op, settings, 11, target, [reference]);
        using var buffer = WeightBuffers.Allocate(target.Layout);
        OffspringBuilder.BuildInto(buffer, op, settings, 11, target, [reference]);
        Assert.Equal(WeightHash.Of(fresh), WeightHash.Of(buffer));
    }
}
