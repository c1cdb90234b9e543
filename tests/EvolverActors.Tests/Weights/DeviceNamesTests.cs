using EvolverActors.Host.Commands;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Weights;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace EvolverActors.Tests.Weights;

/// <summary>Device names as users write them: cpu, cuda, cuda:N, and one line for anything else.</summary>
public sealed class DeviceNamesTests
{
    [Theory]
    [InlineData("cpu")]
    [InlineData("CPU")]
    public void Cpu_is_the_cpu_device(string name) => Assert.Equal(DeviceType.CPU, DeviceNames.Parse(name, "--device").type);

    [Theory]
    [InlineData("tpu", "--device tpu: unknown device: use cpu, cuda or cuda:N")]
    [InlineData("meta", "--device meta: unknown device: use cpu, cuda or cuda:N")]
    [InlineData("", "--device '': unknown device: use cpu, cuda or cuda:N")]
    [InlineData("cpu:0", "--device cpu:0: unknown device: use cpu, cuda or cuda:N")]
    [InlineData("cuda:x", "--device cuda:x: unknown device: the CUDA index must be a number (use cpu, cuda or cuda:N)")]
    [InlineData("cuda:-1", "--device cuda:-1: unknown device: the CUDA index must be a number (use cpu, cuda or cuda:N)")]
    [InlineData("cuda:", "--device cuda:: unknown device: the CUDA index must be a number (use cpu, cuda or cuda:N)")]
    public void Anything_but_cpu_cuda_and_cuda_n_is_refused_in_one_line(string name, string expected)
    {
        var error = Assert.Throws<EvolverException>(() => DeviceNames.Parse(name, "--device"));
        Assert.Equal(expected, error.Message);
    }

    [Theory]
    [InlineData("cuda")]
    [InlineData("cuda:0")]
    [InlineData("CUDA:1")]
    public void Cuda_without_cuda_names_the_build_and_with_it_parses(string name)
    {
        if (cuda.is_available())
        {
            var device = DeviceNames.Parse(name, "evaluator device");
            Assert.Equal(DeviceType.CUDA, device.type);
            return;
        }
        var error = Assert.Throws<EvolverException>(() => DeviceNames.Parse(name, "evaluator device"));
        Assert.Equal($"evaluator device {name}: CUDA is not available in this build (build with -p:TorchBackend=cuda on a GPU host)", error.Message);
    }

    [Fact]
    public void A_cuda_index_beyond_the_devices_present_is_refused()
    {
        var error = Assert.Throws<EvolverException>(() => DeviceNames.Parse("cuda:64", "--device"));
        Assert.StartsWith("--device cuda:64: ", error.Message, StringComparison.Ordinal);
        if (cuda.is_available())
        {
            Assert.Contains("no such CUDA device: this host has", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_command_with_an_unknown_device_fails_before_doing_anything()
    {
        using var dir = new Checkpoints.TempDir();
        var output = dir.File("zoo");
        var (code, _, error) = CliRunner.Run("zoo", "build", "--recipe", "mnist-noniid", "--out", output, "--device", "tpu");
        Assert.Equal(Cli.UserError, code);
        Assert.Equal("error: --device tpu: unknown device: use cpu, cuda or cuda:N", error.TrimEnd());
        Assert.False(Directory.Exists(output));
    }
}
