using System.CommandLine;
using EvolverActors.Host.Run;

namespace EvolverActors.Host.Commands;

/// <summary><c>evolver node --config FILE --run-id ID [--join HOST:PORT] [--fetch-from URL] [--cache DIR] [--node-dir DIR] [--coordinator [--files-listen IP:PORT]]</c>: a worker node, or a standby coordinator, that joins a running run's cluster.</summary>
internal static class NodeCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config", "-c") { Description = "the run's config (the same population; this node's evaluators.devices)", Required = true };
        var runId = new Option<string?>("--run-id") { Description = "run id (default: the config file's name)" };
        var runs = RunCommand.RunsRootOption();
        var join = new Option<string?>("--join") { Description = "the coordinator's HOST:PORT (default: from the run directory's cluster.json)" };
        var name = new Option<string?>("--name") { Description = "this node's name in evaluator and log file names (default: HOSTNAME-PID)" };
        var standby = new Option<bool>("--coordinator") { Description = "a standby coordinator: takes the steward over if the first coordinator is lost (needs persistence.postgresql)" };
        var fetchFrom = new Option<string?>("--fetch-from")
        {
            Description = "the coordinator's file server URL: starting members missing on this host, and (given, or without the run directory) the run's run.json and snapshots (default: from cluster.json; token in EVOLVER_FILES_TOKEN or the run directory's files.token)",
        };
        var cache = new Option<string?>("--cache") { Description = "where fetched members are kept, verified, under members/ (default $EVOLVER_DATA or ~/.cache/evolver)" };
        var filesListen = new Option<string?>("--files-listen")
        {
            Description = "with --coordinator: HOST:PORT of the file server this standby offers once it has taken the run over (default 127.0.0.1:0; token as the coordinator's)",
        };
        var nodeDir = new Option<string?>("--node-dir")
        {
            Description = "without the run directory (or with --fetch-from): where this node keeps the run's fetched run.json and snapshots and its log (default CACHE/nodes/RUN-ID)",
        };
        var command = new Command("node", "join a running run as a worker node that offers evaluators for its devices");
        foreach (var option in new Option[] { config, runId, runs, join, name, standby, fetchFrom, cache, nodeDir, filesListen })
        {
            command.Options.Add(option);
        }
        command.SetAction(result => Cli.Guard(() =>
        {
            var path = result.GetValue(config)!;
            if (result.GetValue(filesListen) is { } listen && !result.GetValue(standby))
            {
                throw new Tensors.EvolverException($"--files-listen {listen}: only with --coordinator (a worker node serves no files)");
            }
            var request = new NodeRequest(path, result.GetValue(runId) ?? Path.GetFileNameWithoutExtension(path), result.GetValue(runs)!,
                result.GetValue(join), result.GetValue(name), Console.Out, result.GetValue(standby))
            {
                FetchFrom = result.GetValue(fetchFrom),
                Cache = result.GetValue(cache),
                NodeDirectory = result.GetValue(nodeDir),
                FilesListen = result.GetValue(filesListen) is { } endpoint ? RunCommand.Endpoint(endpoint) : null,
            };
            return NodeLauncher.RunAsync(request).GetAwaiter().GetResult();
        }));
        return command;
    }
}
