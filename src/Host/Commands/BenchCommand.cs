using System.CommandLine;
using EvolverActors.Host.Bench;
using EvolverActors.Host.Config;
using EvolverActors.Tensors.Tasks;
using EvolverActors.Tensors.Weights;

namespace EvolverActors.Host.Commands;

/// <summary>`evolver bench ops`: speed figures printed by a command, the last line one JSON object.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var bench = new Command("bench", "run a benchmark; the last line of output is one JSON object");
        var ops = new Command("ops", "Evolver operator vs torch copy_, and incremental vs full average merge");
        var parameters = new Option<long>("--params") { Description = "Model size in float32 parameters", DefaultValueFactory = _ => 25_000_000 };
        var members = new Option<int>("--members") { Description = "Population size for the merge benchmark", DefaultValueFactory = _ => 16 };
        var repetitions = new Option<int>("--repetitions") { Description = "Timed repetitions per figure (median reported)", DefaultValueFactory = _ => 11 };
        ops.Options.Add(parameters);
        ops.Options.Add(members);
        ops.Options.Add(repetitions);
        ops.SetAction(result => Cli.Guard(() =>
        {
            var json = OpsBenchmark.Run(result.GetValue(parameters), result.GetValue(members), result.GetValue(repetitions), Console.Out);
            Console.WriteLine(json.ToJsonString());
            return 0;
        }));
        bench.Subcommands.Add(ops);
        bench.Subcommands.Add(Eval());
        bench.Subcommands.Add(Schedule());
        bench.Subcommands.Add(Overhead());
        bench.Subcommands.Add(Resume());
        bench.Subcommands.Add(Soak());
        bench.Subcommands.Add(Evaluator());
        bench.Subcommands.Add(MergeMemory());
        bench.Subcommands.Add(Store());
        bench.Subcommands.Add(Memory());
        bench.Subcommands.Add(Cluster());
        return bench;
    }

    private static Command Memory()
    {
        var modelGb = new Option<double>("--model-gb") { Description = "size of each synthetic bfloat16 member in GB", DefaultValueFactory = _ => 1.5 };
        var members = new Option<int>("--members") { Description = "population size", DefaultValueFactory = _ => 8 };
        var budget = new Option<string>("--budget") { Description = "memory.max-resident of the run (4GB, 500MB, bytes)", DefaultValueFactory = _ => "4GB" };
        var accepted = new Option<int>("--accepted") { Description = "accepted offspring (every offspring is accepted)", DefaultValueFactory = _ => 30 };
        var tensorMb = new Option<int>("--tensor-mb") { Description = "size of each tensor in MB", DefaultValueFactory = _ => 64 };
        var scratch = new Option<string?>("--scratch") { Description = "directory for the population and the run (default: the temp directory); removed afterwards" };
        var zoo = new Option<string?>("--zoo") { Description = "reuse a population an earlier `bench memory` wrote (kept; the same --model-gb, --members and --tensor-mb)" };
        var command = new Command("memory", "peak RSS of a merged-mode run whose population does not fit its memory.max-resident");
        foreach (var option in new Option[] { modelGb, members, budget, accepted, tensorMb, scratch, zoo })
        {
            command.Options.Add(option);
        }
        command.SetAction(result => Cli.Guard(() =>
        {
            var json = MemoryBenchmark.Run(result.GetValue(modelGb), result.GetValue(members), ByteSize.Parse(result.GetValue(budget)!, "--budget"),
                result.GetValue(accepted), result.GetValue(tensorMb), result.GetValue(scratch), result.GetValue(zoo), Console.Out);
            Console.WriteLine(json.ToJsonString());
            return 0;
        }));
        return command;
    }

    private static Command Store()
    {
        var parameters = new Option<long>("--params") { Description = "float32 parameters per member (25 M: 100 MB)", DefaultValueFactory = _ => 25_000_000 };
        var members = new Option<int>("--members") { Description = "population size", DefaultValueFactory = _ => 8 };
        var accepted = new Option<int>("--accepted") { Description = "accepted offspring (every offspring is accepted)", DefaultValueFactory = _ => 200 };
        var snapshotEvery = new Option<int>("--snapshot-every") { Description = "acceptances between population snapshots", DefaultValueFactory = _ => 20 };
        var command = new Command("store", "bytes a run writes per acceptance, and rebuilding every accepted member from recipes against copy bandwidth");
        foreach (var option in new Option[] { parameters, members, accepted, snapshotEvery })
        {
            command.Options.Add(option);
        }
        command.SetAction(result => Cli.Guard(() =>
        {
            var json = StoreBenchmark.RunAsync(result.GetValue(parameters), result.GetValue(members), result.GetValue(accepted),
                result.GetValue(snapshotEvery), Console.Out).GetAwaiter().GetResult();
            Console.WriteLine(json.ToJsonString());
            return 0;
        }));
        return command;
    }

    private static Command MergeMemory()
    {
        var modelMb = new Option<int>("--model-mb") { Description = "size of each synthetic float32 model in MB", DefaultValueFactory = _ => 1000 };
        var models = new Option<int>("--models") { Description = "models merged", DefaultValueFactory = _ => 4 };
        var tensorMb = new Option<int>("--tensor-mb") { Description = "size of each tensor in MB (the last one of a model may be smaller)", DefaultValueFactory = _ => 64 };
        var method = new Option<string>("--method") { Description = "merge method (a base is written for the methods that need one)", DefaultValueFactory = _ => "average" };
        var scratch = new Option<string?>("--scratch") { Description = "directory for the synthetic models and the output (default: the temp directory); removed afterwards" };
        var command = new Command("merge-memory", "peak RSS and time of an `evolver merge` child process on N synthetic models of a chosen size");
        foreach (var option in new Option[] { modelMb, models, tensorMb, method, scratch })
        {
            command.Options.Add(option);
        }
        command.SetAction(result => Cli.Guard(() =>
        {
            var json = MergeMemoryBenchmark.Run(result.GetValue(modelMb), result.GetValue(models), result.GetValue(tensorMb),
                result.GetValue(method)!, result.GetValue(scratch), Console.Out);
            Console.WriteLine(json.ToJsonString());
            return 0;
        }));
        return command;
    }

    private static Command Evaluator()
    {
        var imageSize = new Option<int>("--image-size") { Description = "cnn input size; sets the candidate's size (224: 25.7 MB)", DefaultValueFactory = _ => 224 };
        var examples = new Option<int>("--examples") { Description = "dev images the built-in evaluator scores", DefaultValueFactory = _ => 16 };
        var repetitions = new Option<int>("--repetitions") { Description = "timed repetitions (median reported)", DefaultValueFactory = _ => 11 };
        var scratch = new Option<string>("--scratch") { Description = "scratch directory candidates are written to", DefaultValueFactory = _ => EvaluatorSpec.DefaultScratch() };
        var command = new Command("evaluator", "per-candidate overhead of the external worker path (no-op Python worker) vs the built-in evaluator, and the candidate write vs the scratch device");
        foreach (var option in new Option[] { imageSize, examples, repetitions, scratch })
        {
            command.Options.Add(option);
        }
        command.SetAction(result => Cli.Guard(() =>
        {
            var json = EvaluatorBenchmark.Run(result.GetValue(imageSize), result.GetValue(examples), result.GetValue(repetitions), result.GetValue(scratch)!, Console.Out);
            Console.WriteLine(json.ToJsonString());
            return 0;
        }));
        return command;
    }

    private static Command Overhead()
    {
        var parameters = new Option<long>("--params") { Description = "parameters per model", DefaultValueFactory = _ => 1_000_000 };
        var members = new Option<int>("--members") { Description = "population size", DefaultValueFactory = _ => 8 };
        var evaluators = new Option<int>("--evaluators") { Description = "no-op evaluators", DefaultValueFactory = _ => 2 };
        var evaluations = new Option<long>("--evaluations") { Description = "offspring", DefaultValueFactory = _ => 1000 };
        var command = new Command("overhead", "service overhead per offspring with no-op evaluators and persistence on; peak memory");
        foreach (var option in new Option[] { parameters, members, evaluators, evaluations })
        {
            command.Options.Add(option);
        }
        command.SetAction(result => Cli.Guard(() =>
        {
            var json = OverheadBenchmark.RunAsync(result.GetValue(parameters), result.GetValue(members), result.GetValue(evaluators),
                result.GetValue(evaluations), Console.Out).GetAwaiter().GetResult();
            Console.WriteLine(json.ToJsonString());
            return 0;
        }));
        return command;
    }

    private static Command Cluster()
    {
        var evaluators = new Option<int>("--evaluators") { Description = "simulated evaluators per node", DefaultValueFactory = _ => 2 };
        var evaluations = new Option<long>("--evaluations") { Description = "the budget of each run", DefaultValueFactory = _ => 3000 };
        var median = new Option<double>("--median-ms") { Description = "median simulated evaluation time (log-normal, sigma 0.5)", DefaultValueFactory = _ => 50 };
        var postgresql = new Option<string?>("--postgresql")
        {
            Description = "an Npgsql connection string (no password: PGPASSWORD or ~/.pgpass) for the coordinator-loss phase; without it that phase is skipped",
        };
        var command = new Command("cluster", "evaluations/s on 1, 2 and 3 nodes on loopback, a worker killed with -9 at mid-run, and (on PostgreSQL) the coordinator");
        foreach (var option in new Option[] { evaluators, evaluations, median, postgresql })
        {
            command.Options.Add(option);
        }
        command.SetAction(result => Cli.Guard(() =>
        {
            Console.WriteLine(ClusterBenchmark.Run(result.GetValue(evaluators), result.GetValue(evaluations), result.GetValue(median),
                result.GetValue(postgresql), Console.Out).ToJsonString());
            return 0;
        }));
        return command;
    }

    private static Command Resume()
    {
        var events = new Option<int>("--events") { Description = "accepted events before the kill", DefaultValueFactory = _ => 1000 };
        var resumes = new Option<int>("--resumes")
        {
            Description = "kill and resume the same run this many times (1-20); the figure is their median, each is listed",
            DefaultValueFactory = _ => 1,
        };
        var command = new Command("resume", "time from process start to the first new evaluation when resuming a killed run");
        command.Options.Add(events);
        command.Options.Add(resumes);
        command.SetAction(result => Cli.Guard(() =>
        {
            var times = result.GetValue(resumes);
            if (times is < 1 or > 20)
            {
                throw new Tensors.EvolverException($"--resumes {times}: give 1 to 20");
            }
            Console.WriteLine(ResumeBenchmark.Run(result.GetValue(events), times, Console.Out).ToJsonString());
            return 0;
        }));
        return command;
    }

    private static Command Soak()
    {
        var evaluations = new Option<long>("--evaluations") { Description = "the run's budget", DefaultValueFactory = _ => 100_000 };
        var median = new Option<double>("--median-ms") { Description = "median simulated evaluation time", DefaultValueFactory = _ => 20 };
        var command = new Command("soak", "a long simulated run scraped every second: memory and disk over time, scrape latency");
        command.Options.Add(evaluations);
        command.Options.Add(median);
        command.SetAction(result => Cli.Guard(() =>
        {
            Console.WriteLine(SoakBenchmark.Run(result.GetValue(evaluations), result.GetValue(median), Console.Out).ToJsonString());
            return 0;
        }));
        return command;
    }

    private static Command Schedule()
    {
        var evaluators = new Option<int>("--evaluators") { Description = "simulated evaluators", DefaultValueFactory = _ => 8 };
        var members = new Option<int>("--members") { Description = "population size", DefaultValueFactory = _ => 8 };
        var evaluations = new Option<long>("--evaluations") { Description = "evaluations per schedule", DefaultValueFactory = _ => 2000 };
        var lag = new Option<int?>("--lag") { Description = "breeding.lag of the steady-state run (default: the run default)" };
        var command = new Command("schedule", "steady-state vs generational with simulated log-normal evaluators (median 50 ms, sigma 0.5)");
        command.Options.Add(lag);
        command.Options.Add(evaluators);
        command.Options.Add(members);
        command.Options.Add(evaluations);
        command.SetAction(result => Cli.Guard(() =>
        {
            var json = ScheduleBenchmark.RunAsync(result.GetValue(evaluators), result.GetValue(members), result.GetValue(evaluations), result.GetValue(lag), Console.Out)
                .GetAwaiter().GetResult();
            Console.WriteLine(json.ToJsonString());
            return 0;
        }));
        return command;
    }

    private static Command Eval()
    {
        var task = new Option<string>("--task") { Description = "task whose dev split to use: a built-in task or a task file", DefaultValueFactory = _ => MnistNonIidTask.Name };
        var zoo = new Option<string?>("--zoo") { Description = "zoo directory (default: the task's default zoo, built if missing; required for tasks without a recipe)" };
        var seed = new Option<int>("--seed") { Description = "zoo seed", DefaultValueFactory = _ => 0 };
        var evaluations = new Option<int>("--evaluations") { Description = "timed evaluations", DefaultValueFactory = _ => 50 };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N", DefaultValueFactory = _ => "cpu" };
        var command = new Command("eval", "evaluator core: candidate loads and dev-set scoring per second");
        foreach (var option in new Option[] { task, zoo, seed, evaluations, device })
        {
            command.Options.Add(option);
        }
        command.SetAction(result => Cli.Guard(() =>
        {
            var json = EvalBenchmark.Run(result.GetValue(task)!, result.GetValue(zoo), result.GetValue(seed), result.GetValue(evaluations),
                DeviceNames.Parse(result.GetValue(device)!, "--device"), Console.Out);
            Console.WriteLine(json.ToJsonString());
            return 0;
        }));
        return command;
    }
}
