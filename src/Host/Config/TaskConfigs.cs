using EvolverActors.Tensors;
using EvolverActors.Tensors.Assets;
using EvolverActors.Tensors.Configuration;
using EvolverActors.Tensors.Evaluation;
using EvolverActors.Tensors.Models.Bert;
using EvolverActors.Tensors.Models.Cnn;
using EvolverActors.Tensors.Tasks;
using EvolverActors.Tensors.Zoo;

namespace EvolverActors.Host.Config;

/// <summary>TEMPORARY bridge until the task registry lands: resolves the two demo tasks by name.</summary>
internal static class TaskConfigs
{
    public static IEvaluationTask Load(string reference, bool quick) => new DemoTask(reference, quick);

    public static IEvaluationTask FromSection(Settings section, bool quick) =>
        throw new EvolverException($"{section.Source}: inline tasks are not supported yet");

    private sealed class DemoTask(string name, bool quick) : IEvaluationTask
    {
        public string Kind => name;
        public string Family => name == SentimentRecipe.Name ? BertClassifier.FamilyName : CnnClassifier.FamilyName;
        public Metric Metric => name == SentimentRecipe.Name ? Metric.MacroF1 : Metric.Accuracy;
        public IReadOnlyDictionary<string, string> Identity => new Dictionary<string, string> { ["kind"] = name, ["quick"] = quick.ToString() };

        public TaskData Load(TaskLoadContext context)
        {
            var config = HoconFiles.LoadTask(name);
            if (name == MnistNonIidRecipe.Name)
            {
                var mnist = MnistNonIidRecipe.LoadData(AssetStore.Default, context.Seed, TaskSettings.MnistNonIid(config));
                return new TaskData(mnist.Dev, mnist.Test, mnist.Ood, new ImageBatcher());
            }
            var options = TaskSettings.Sentiment(config, quick);
            var text = SentimentRecipe.LoadData(AssetStore.Default, context.Seed, options);
            return new TaskData(text.Dev, text.Test, text.Ood, SentimentRecipe.Batcher(options));
        }
    }
}
