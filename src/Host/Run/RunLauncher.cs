using System.Runtime.InteropServices;
using Akka.Actor;
using Akka.Hosting;
using EvolverActors.Actors.Hosting;
using EvolverActors.Actors.Run;
using EvolverActors.Actors.Steward;
using EvolverActors.Actors.Storage;
using EvolverActors.Host.Config;
using EvolverActors.Host.Files;
using EvolverActors.Host.Http;
using Microsoft.Extensions.DependencyInjection;
using static TorchSharp.torch;

namespace EvolverActors.Host.Run;

/// <summary>What `evolver run` was asked to do: a typed configuration (from a file, or built by demo and experiment) and where to run it.</summary>
internal sealed record RunRequest(RunConfiguration Config, string RunId, string RunsRoot, TextWriter Output)
{
    /// <summary>Where the file server that hands the starting members to other nodes listens (null: no server; docs/architecture.md §4).</summary>
    public System.Net.IPEndPoint? FilesListen { get; init; }

    /// <summary>Print (and keep in run.log) one JSON object per line instead of text (<c>--log-format json</c>).</summary>
    public bool JsonLog { get; init; }

    /// <summary>A run of the config file at <paramref name="path"/>; the run id defaults to the file's name.</summary>
    public static RunRequest FromFile(string path, string? runId, string runsRoot, TextWriter output) =>
        new(RunConfiguration.Load(path), runId ?? Path.GetFileNameWithoutExtension(path), runsRoot, output);
}

/// <summary>
/// Starts or resumes a run: checks config and population before writing anything, takes the run's lock, seeds
/// the weight store, starts one cluster node (Akka.Hosting), shows progress and waits for the steward's end.
/// </summary>
internal static class RunLauncher
{
    public const string DefaultRunsRoot = ".evolver/runs";

    /// <summary>How long Ctrl-C or SIGTERM may take before the node leaves regardless (exit status <see cref="ForcedStopExitCode"/>).</summary>
    public static readonly TimeSpan StopDeadline = TimeSpan.FromSeconds(30);

    /// <summary>The exit status of a node that had to leave without the run stopping in time.</summary>
    public const int ForcedStopExitCode = 6;

    /// <summary>
    /// Whether a finished run's config may let it go on (docs/architecture.md §3): then the steward decides from its
    /// ledger; otherwise the run reports at once, without starting anything.
    /// </summary>
    private static bool BudgetMayReopen(RunStatusView finished, RunSettings settings) => finished.Reason switch
    {
        { } r when r.StartsWith("max-evaluations", StringComparison.Ordinal) => settings.MaxEvaluations > finished.Evaluations,
        { } r when r.StartsWith("target score", StringComparison.Ordinal) => settings.TargetScore is not { } target || finished.BestDev < target,
        _ => true,
    };

    public static async Task<(int ExitCode, string RunId)> RunAsync(RunRequest request)
    {
        var runId = request.RunId;
        var settings = request.Config.Settings;
        if (settings.MaxResidentBytes > 0)
        {
            // Under a memory budget freed tensors must go back to the system, not stay in the C heap (docs/architecture.md §3).
            Tensors.Native.NativeHeap.ReturnLargeBlocksOnFree();
        }
        // Other nodes find a bootstrapping coordinator at its management endpoint, so that needs a port they know.
        settings.Cluster.Bootstrap?.RequireFixedManagementPort("the coordinator");
        var run = RunDirectory.Open(request.RunsRoot, runId);
        if (run.CurrentStatus() is { State: "finished" } finished && !BudgetMayReopen(finished, settings))
        {
            request.Output.WriteLine($"run '{runId}' already finished ({finished.Reason}): {finished.Evaluations} evaluations, {finished.Accepted} accepted, best dev {finished.BestDev:F4}");
            return (0, runId);
        }

        // libtorch's native load is the longest single step before the actors start: it runs beside the checks below
        // (for a simulated population, whose checks touch no tensor until they wait for it; docs/architecture.md, "Start-up").
        var torchLoaded = TorchPreload.Loaded;
        _ = StartupWarmup.Start();
        // The cluster secret too (OpenSSL's start and the PKCS#12 decoding took 0.1-0.2 s cold here): the configured one,
        // else the run's own if it has one yet (docs/architecture.md §4, "Security").
        var secretPath = settings.Cluster.SecretPath ?? (File.Exists(run.ClusterSecretPath) ? run.ClusterSecretPath : null);
        var secretLoad = secretPath is null ? Task.FromResult<ClusterSecret?>(null) : Task.Factory.StartNew(() => (ClusterSecret?)ClusterSecret.Load(secretPath),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        if (request.Config.Simulation is null)
        {
            // A task's data and its model check are tensors, and TorchSharp's native loader must finish first.
            await torchLoaded.ConfigureAwait(false);
        }

        // Everything that can be wrong with the input is found before the run directory is touched.
        var resolved = ResolvedRun.Resolve(request.Config);
        var population = resolved.Population;
        var fingerprint = resolved.Fingerprint();
        EvolverActors.Tensors.Diagnostics.StartupTrace.Mark("config resolved");
        await torchLoaded.ConfigureAwait(false);
        // A run resumed on the members it recorded (same content hashes) had every byte of them checked when it started.
        resolved.RequireStartable(checkMembers: !run.StartedFrom(fingerprint));
        // So is a configured HTTP address another process holds.
        RunHttp.RequireBindable(settings.Http);
        // A configured cluster secret is input too: read before anything is written.
        var loadedSecret = await secretLoad.ConfigureAwait(false);
        EvolverActors.Tensors.Diagnostics.StartupTrace.Mark("members checked, secret loaded");

        using var runLock = run.AcquireLock();
        // From here on what the run prints is also kept in its directory (docs/architecture.md §6).
        var output = new RunLog(request.Output, Path.Combine(run.Root, RunLog.FileName), runId, request.JsonLog);
        // Under the lock, before anything is written: a started run whose journal lost its events is refused (not
        // restarted at version 0), and temp files of writes a crash interrupted are deleted (docs/architecture.md §3).
        run.UseJournal(settings.JournalDatabase ?? JournalConnection.Sqlite(run.JournalPath));
        run.RequireJournalOfStartedRun();
        if (StoragePaths.DeleteTempFiles(run.Root) is ( > 0 and var tempFiles, var tempBytes))
        {
            output.WriteLine($"[{runId}] removed {tempFiles} temp files of interrupted writes ({Commands.ByteSize.Format(tempBytes)})");
        }
        run.CreateOrVerify(fingerprint);
        run.WriteStarting(settings.Mode.ToString().ToLowerInvariant(), settings.Schedule == Schedule.SteadyState ? "steady-state" : "generational",
            population.Members.Count);
        EvolverActors.Tensors.Diagnostics.StartupTrace.Mark("journal checked");
        // Otherwise the run has its own, made at its first start and kept for every resume and for its worker nodes.
        using var secret = loadedSecret ?? ClusterSecret.ForRun(run.Root);
        if (!File.Exists(run.ConfigPath))
        {
            File.WriteAllText(run.ConfigPath, RunConfigWriter.Render(request.Config, commented: false));
        }
        // External workers' stderr goes to the run's evaluators.log (their stdout carries the protocol).
        var evaluatorLog = new LineLog(Path.Combine(run.Root, "evaluators.log"));
        // The starting population is referenced in place by content address, never copied (docs/architecture.md §3).
        var weights = RunWeights.Open(run, population, fingerprint, settings, CPU);
        var fitness = resolved.Fitness(evaluatorLog.Write, weights);
        foreach (var problem in weights.Snapshots.Problems)
        {
            output.WriteLine($"warning: {problem}");
        }
        EvolverActors.Tensors.Diagnostics.StartupTrace.Mark("weights opened");
        var initial = LegacyInitialIds(run) ?? weights.InitialIds;
        using var metrics = new RunMetrics(settings.Mode.ToString().ToLowerInvariant()) { ResidentBytes = () => weights.Resident.ResidentBytes };
        var runtime = new EvolverRuntime(settings, runId, weights.Resident, fitness, initial, run) { Book = weights.Book, Snapshots = weights.Snapshots, Metrics = metrics };
        var files = request.FilesListen is null ? null
            : new FileCatalog(fingerprint.Members.Select(m => (m.Sha256, population.Members[m.Slot])))
            {
                // Workers without the run directory get the fingerprint and the snapshots here too (docs/architecture.md §4).
                FingerprintPath = run.FingerprintPath,
                SnapshotsDirectory = weights.Snapshots.Directory,
            };
        var exitCode = await RunNodeAsync(runtime, run, secret, output, files: files, filesListen: request.FilesListen, runsRoot: request.RunsRoot,
            import: new MemberImport(population.Members[0], weights.Snapshots, FitnessFactory.StatisticsKindOf(settings))).ConfigureAwait(false);
        return (exitCode, runId);
    }

    /// <summary>
    /// The started file server, or null with one line when it could not start (its address taken, say): the run goes on,
    /// and only nodes that lack starting members are affected (they say so).
    /// </summary>
    private static async Task<FileServer?> FileServerStarted(Task<FileServer> serving, System.Net.IPEndPoint listen, string runId, TextWriter output)
    {
        try
        {
            return await serving.ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or Tensors.EvolverException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            output.WriteLine($"[{runId}] the file server could not start on {listen}: {e.Message.Split('\n')[0]}; nodes that lack starting members cannot fetch them");
            return null;
        }
    }

    /// <summary>A run made before recipes copied its starting members into its weight store as <c>init-N</c>; it keeps those ids.</summary>
    private static List<string>? LegacyInitialIds(RunDirectory run) =>
        Directory.Exists(run.WeightsPath) && run.Weights.Contains("init-0")
            ? [.. run.Weights.Ids().Where(id => id.StartsWith("init-", StringComparison.Ordinal)).OrderBy(id => int.Parse(id[5..], System.Globalization.CultureInfo.InvariantCulture))]
            : null;

    /// <param name="runtime">The node's runtime.</param>
    /// <param name="run">The run directory.</param>
    /// <param name="secret">The cluster secret its remoting authenticates with (docs/architecture.md §4, "Security").</param>
    /// <param name="output">Where progress goes.</param>
    /// <param name="standby">
    /// Null: this node founds the run's cluster (`evolver run`). Else a standby coordinator (`evolver node
    /// --coordinator`): it joins the cluster at this seed (null: through cluster bootstrap) and takes the steward and the breeder over if the first
    /// coordinator is lost; SIGTERM makes it leave the cluster, not stop the run (docs/architecture.md §4).
    /// </param>
    /// <param name="files">The starting members the node's file server hands out (null: no server); a standby's is named in cluster.json once it holds the run.</param>
    /// <param name="filesListen">Where that server listens.</param>
    /// <param name="runsRoot">Where runs are kept (the page's commands name it).</param>
    /// <param name="import">How the control API brings a checkpoint in to admit it (null: this node admits none).</param>
    internal static async Task<int> RunNodeAsync(EvolverRuntime runtime, RunDirectory run, ClusterSecret secret, TextWriter output,
        (string? Seed, string Name)? standby = null, FileCatalog? files = null, System.Net.IPEndPoint? filesListen = null, string runsRoot = DefaultRunsRoot,
        MemberImport? import = null)
    {
        using var host = QuietLifetime.BuildHost(EvolverHosting.SystemName,
            akka => akka.AddEvolver(runtime, run.Journal, secret, standby?.Seed, standby is { } s ? s.Name + "-" : "", standby: standby is not null));
        // Someone without the cluster secret tried to connect (docs/architecture.md §4, "Security"): one line, no more.
        secret.Refused += (peer, certificate) =>
            output.WriteLine($"[{runtime.RunId}] refused a connection with {peer}: its certificate ({certificate}) is not this cluster's secret ({secret.Fingerprint})");
        var ended = new TaskCompletionSource<RunEnded>(TaskCreationOptions.RunContinuationsAsynchronously);
        await host.StartAsync().ConfigureAwait(false);
        EvolverActors.Tensors.Diagnostics.StartupTrace.Mark("actor host started");
        var system = host.Services.GetRequiredService<ActorSystem>();
        var address = Akka.Cluster.Cluster.Get(system).SelfAddress.ToString();
        IDisposable? takenLock = null;
        FileServer? server = null;
        if (standby is { } joining)
        {
            await NodeLauncher.JoinOrGiveUpAsync(host, joining.Seed, joining.Name, secret, runtime.Settings.Cluster.Bootstrap).ConfigureAwait(false);
            // Once the run is this node's, it holds the run lock and cluster.json as the coordinator did, so that a
            // restarted `evolver run` is refused instead of starting a second steward on the journal (docs/architecture.md §4).
            var self = Akka.Cluster.Cluster.Get(system).SelfAddress;
            void TakeOver(Akka.Actor.Address home)
            {
                if (!home.Equals(self) || takenLock is not null)
                {
                    return;
                }
                try
                {
                    takenLock = run.AcquireLock();
                    run.RecordCoordinator(address, secret.Path, server?.Url);
                    output.WriteLine($"[{runtime.RunId}] standby {joining.Name} took the run over from the lost coordinator");
                }
                catch (Tensors.EvolverException e)
                {
                    output.WriteLine($"[{runtime.RunId}] standby {joining.Name}: {e.Message}");
                }
            }
            Action<Akka.Actor.Address> onMoved = TakeOver;
            system.ActorOf(Props.Create(() => new TakeOverListener(onMoved)), "take-over-listener");
        }
        else
        {
            if (runtime.Settings.Cluster.Bootstrap is { } bootstrap)
            {
                // It forms the cluster after the stable margin, or joins one a contact point reports (docs/architecture.md §4).
                await ClusterEntry.FormOrGiveUpAsync(host, bootstrap).ConfigureAwait(false);
            }
            // Worker nodes (`evolver node`) sharing the run directory find the coordinator here (docs/architecture.md §4).
            run.RecordCoordinator(address, secret.Path);
        }
        // Weights travel beside the cluster, by content hash (docs/architecture.md §4). The file server starts once the run
        // is under way, off the start-up path (Kestrel's start costs CPU the first evaluation needs on a small machine);
        // cluster.json gets its URL then, and a node that needs it waits for it.
        var serving = files is null || filesListen is null ? null
            : Task.Delay(TimeSpan.FromSeconds(1)).ContinueWith(_ => FileServer.StartAsync(filesListen, files, FileToken.GetOrCreate(run)), TaskScheduler.Default).Unwrap();
        system.ActorOf(Props.Create(() => new EndListener(ended)), "end-listener");
        var steward = host.Services.GetRequiredService<ActorRegistry>().Get<StewardProxy>();
        // The page, /metrics and the control API (docs/architecture.md §6), off the start-up path like the file server.
        var http = runtime.Metrics is not { } metrics ? null
            : RunHttp.StartSoon(runtime, run, runsRoot, steward, metrics, line => output.WriteLine($"[{runtime.RunId}] {line}"), import);

        void RequestStop(string why)
        {
            if (standby is null)
            {
                steward.Tell(new StopRun(why));
            }
            else
            {
                ended.TrySetResult(new RunEnded("left", $"standby {standby.Value.Name} {why}", 0));
            }
            // A steward that does not answer (a journal that hangs, a stuck actor) must not keep the process: what the
            // journal acknowledged is stored, and the next start resumes from it (docs/architecture.md §6).
            _ = Task.Delay(StopDeadline).ContinueWith(_ => ended.TrySetResult(new RunEnded("stopped",
                $"{why}, but the run did not stop within {StopDeadline.TotalSeconds:F0} s: left without its final snapshot (the next start resumes it)", ForcedStopExitCode)),
                TaskScheduler.Default);
        }
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; RequestStop("stopped by SIGTERM"); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; RequestStop("stopped by Ctrl-C"); });

        var progress = new ProgressDisplay(output, runtime.RunId, runtime.Settings.MaxEvaluations);
        while (!ended.Task.IsCompleted)
        {
            await Task.WhenAny(ended.Task, Task.Delay(1000)).ConfigureAwait(false);
            if (serving is { IsCompleted: true })
            {
                server = await FileServerStarted(serving, filesListen!, runtime.RunId, output).ConfigureAwait(false);
                serving = null;
                // A standby's server is the run's once it has taken the run over.
                if (server is not null && (standby is null || takenLock is not null))
                {
                    run.RecordCoordinator(address, secret.Path, server.Url);
                }
            }
            try
            {
                var now = await steward.Ask<RunProgress>(GetRunProgress.Instance, TimeSpan.FromSeconds(2)).ConfigureAwait(false);
                progress.Show(now);
                RunHttp.Observe(http, now);
            }
            catch (Exception e) when (e is TimeoutException or AskTimeoutException or TaskCanceledException)
            {
                // The singleton may still be starting or busy persisting; the next tick shows progress.
            }
        }
        var end = await ended.Task.ConfigureAwait(false);
        progress.Finish(end);
        server ??= serving is null ? null : await FileServerStarted(serving, filesListen!, runtime.RunId, output).ConfigureAwait(false);
        if (server is not null)
        {
            await server.DisposeAsync().ConfigureAwait(false);
        }
        await RunHttp.StopAsync(http).ConfigureAwait(false);
        // Leaving the cluster and stopping the actors is bounded the same way.
        await Task.WhenAny(host.StopAsync(), Task.Delay(StopDeadline)).ConfigureAwait(false);
        if (standby is null || takenLock is not null)
        {
            run.ForgetCoordinator();
        }
        takenLock?.Dispose();
        return end.ExitCode;
    }

    /// <summary>Calls back with the new home when the singletons move (a standby taking the run over).</summary>
    private sealed class TakeOverListener : ReceiveActor
    {
        public TakeOverListener(Action<Akka.Actor.Address> moved)
        {
            Receive<Actors.Messages.SingletonsMoved>(m => moved(m.NewHome));
        }

        protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(Actors.Messages.SingletonsMoved));
    }

    /// <summary>Completes the task when the steward publishes the end of the run.</summary>
    private sealed class EndListener : ReceiveActor
    {
        public EndListener(TaskCompletionSource<RunEnded> ended)
        {
            Receive<RunEnded>(e => ended.TrySetResult(e));
        }

        protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(RunEnded));
    }
}
