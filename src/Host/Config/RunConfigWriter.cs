using System.Globalization;
using System.Text;
using System.Text.Json;
using EvolverActors.Actors.Run;
using EvolverActors.Tensors.Configuration;
using EvolverActors.Tensors.Operators;

namespace EvolverActors.Host.Config;

/// <summary>
/// Writes a <see cref="RunConfiguration"/> as a HOCON run config that <see cref="RunConfiguration.Load"/> reads back
/// to the same record: the file <c>evolver init</c> hands a newcomer (with comments), and the <c>run.conf</c> a run
/// directory keeps. Every key is written, defaults included, so the file shows what the run does.
/// </summary>
internal static class RunConfigWriter
{
    public static string Render(RunConfiguration config, bool commented)
    {
        var s = config.Settings;
        var w = new Writer(commented);
        w.Comment("An EvolverActors run config (docs/configuration.md lists every key). Run it: evolver run --config THIS_FILE");
        w.Open("evolver.run");
        RenderTask(w, config);
        RenderPopulation(w, config.Population);
        RenderEvaluator(w, config);
        w.Open("fitness", "what an offspring must beat (selection always uses dev data)");
        w.Value("mode", s.Mode == FitnessMode.Merged ? "merged" : "individual", "merged: X(population) with the slot replaced must beat S | individual: beat its target");
        w.Value("merge-method", s.MergeMethod, "average | fisher | regmean | linear (merged mode)");
        w.Map("merge-params", s.MergeParameters);
        w.Close();
        w.Open("acceptance", "the guard against dev overfitting (docs/architecture.md §1, \"The guard\"); off at guard-fraction = 0");
        w.Value("guard-fraction", Number(s.Guard.Fraction), "the share of dev held out from selection (fixed by breeding.seed), e.g. 0.3");
        w.Value("guard-tolerance", Number(s.Guard.Tolerance), "how far an offspring's guard score may fall below the current one");
        w.Value("output", s.Guard.Output == OutputChoice.BestGuard ? "best-guard" : "last", "last | best-guard (the population version with the best guard score)");
        w.Close();
        w.Open("search", "an evolved-coefficient search instead of breeding (docs/architecture.md §1, \"Evolved merge coefficients\")");
        w.Value("method", s.Search.Enabled ? Tensors.Search.CoefficientSearch.OperatorName : "none",
            "none | cma-es (CMA-ES over per-model, per-layer linear merge weights; needs fitness.merge-method = linear)");
        w.Optional("sigma", s.Search.Enabled ? Number(s.Search.Sigma) : null, "cma-es: the initial step size in logit space (default 0.5)");
        w.Close();
        w.Value("schedule", s.Schedule == Schedule.SteadyState ? "steady-state" : "generational", "steady-state | generational (the reference loop's lockstep)");
        w.Open("breeding");
        w.Value("operator", s.Operator, "evolver | de-rand-1 | de-best-1 | de-current-to-best-1");
        w.Map("operator-params", s.OperatorParameters);
        w.Value("f", Number(s.Breeding.F));
        w.Value("cr", Number(s.Breeding.CR));
        w.Value("crossover", s.Breeding.Crossover == CrossoverKind.Binomial ? "binomial" : "exponential", "binomial | exponential");
        w.Value("granularity", s.Breeding.Granularity.ToString().ToLowerInvariant(), "element | tensor | layer");
        w.Value("j-rand", s.Breeding.GuaranteeJRand ? "on" : "off");
        w.Value("exclude", s.Breeding.Exclude?.ToString() ?? "", "a regex of tensor names the child keeps from its target, e.g. \"^classifier\"");
        if (s.Operator == "evolver" && !s.OperatorParameters.ContainsKey("best-probability"))
        {
            w.Value("best-probability", s.BestProbabilitySchedule.ToString(),
                "evolver: chance that x_ref is the best other member; reference = the original's 0.5 - 0.5/(G - g), or a number in [0, 1]");
        }
        w.Value("target-order", s.TargetOrder == TargetOrder.Fixed ? "fixed" : "shuffled", "fixed (slot n mod N, as the original) | shuffled");
        w.Value("seed", s.Seed.ToString(CultureInfo.InvariantCulture));
        w.Value("queue", Int(s.QueueCapacity), "offspring built ahead of demand");
        w.Value("lag", Int(s.Lag), "steady-state: offspring n is bred from the population after decision n - lag");
        w.Close();
        w.Open("evaluators");
        w.List("devices", s.Devices, "one evaluator per entry: cpu, cuda, cuda:N");
        w.Value("max-retries", Int(s.MaxRetries), "attempts per offspring before it counts as failed");
        w.Value("max-undecided", Int(s.MaxUndecided), "scored offspring an evaluator may have awaiting a decision before it pulls more");
        w.Value("max-consecutive-failures", Int(s.MaxConsecutiveFailures), "an evaluator failing this many offspring in a row is retired");
        w.Close();
        w.Open("budget");
        w.Value("max-evaluations", s.MaxEvaluations.ToString(CultureInfo.InvariantCulture));
        w.Optional("max-wall-time", s.MaxWallTime is { } wall ? $"{(long)wall.TotalSeconds}s" : null, "e.g. 12h");
        w.Optional("target-score", s.TargetScore is { } target ? Number(target) : null, "stop once the best dev score reaches it");
        w.Value("patience", Int(s.Patience), "stop after this many evaluations without an acceptance (0 = never)");
        w.Close();
        w.Open("memory");
        w.Optional("max-resident", s.MaxResidentBytes > 0 ? s.MaxResidentBytes.ToString(CultureInfo.InvariantCulture) : null,
            "bytes of weights a node keeps cached beyond those in use, e.g. 8GiB (an LRU cache); unset: members keep their weights resident");
        w.Close();
        w.Open("persistence");
        w.Value("snapshot-every", Int(s.SnapshotEvery));
        w.Value("population-snapshot-every", Int(s.PopulationSnapshotEvery));
        w.Optional("postgresql", s.JournalDatabase?.ConnectionString, "the journal in PostgreSQL (for several nodes), e.g. \"Host=127.0.0.1;Database=evolver;Username=evolver\"");
        w.Close();
        w.Open("cluster", "remoting between nodes: always mutual TLS with the cluster secret (docs/architecture.md §4)");
        w.Value("hostname", s.Cluster.Hostname, "the address remoting binds; 127.0.0.1: this machine only");
        w.Value("port", Int(s.Cluster.Port), "0: one the kernel picks");
        w.Optional("public-hostname", s.Cluster.PublicHostname, "the address other nodes reach this one at (NAT, containers, hostname = 0.0.0.0)");
        w.Optional("secret", s.Cluster.SecretPath, "the cluster secret from `evolver secret --out FILE`; unset: the run's own cluster.p12 in its run directory");
        RenderBootstrap(w, s.Cluster.Bootstrap);
        w.Close();
        w.Open("http", "the run's page, /metrics and control API (docs/architecture.md §6)");
        w.Value("bind", s.Http.Bind.ToString(), "IP:PORT; 127.0.0.1: this machine only; port 0: a free one");
        w.Close();
        w.Open("metrics");
        w.Optional("otlp-endpoint", s.Http.OtlpEndpoint?.ToString(), "also push the metrics to an OpenTelemetry collector, e.g. \"http://127.0.0.1:4317\"");
        w.Close();
        w.Close();
        return w.ToString();
    }

    /// <summary>The <c>cluster.bootstrap</c> section (docs/configuration.md, "cluster"), or a commented hint when it is off.</summary>
    private static void RenderBootstrap(Writer w, Actors.Run.BootstrapSettings? b)
    {
        if (b is null)
        {
            w.Comment("bootstrap { discovery = config, contact-points = [\"10.0.0.1:8558\"], management-port = 8558 }   # nodes find each other through Akka.Management cluster bootstrap instead of cluster.json / --join");
            return;
        }
        w.Open("bootstrap", "nodes find each other through Akka.Management cluster bootstrap (docs/architecture.md §4)");
        w.Value("discovery", b.DiscoveryName, "config | kubernetes-api");
        if (b.Discovery == Actors.Run.BootstrapDiscovery.Config)
        {
            w.List("contact-points", b.ContactPoints, "management endpoints HOST:PORT to ask; the coordinator's must be one");
        }
        else
        {
            w.Value("pod-label-selector", b.PodLabelSelector, "the pods that are contact points (their container port named management)");
            w.Optional("pod-namespace", b.PodNamespace, "unset: this pod's own namespace");
        }
        w.Value("required-contact-points", Int(b.RequiredContactPoints), "contact points that must answer before the coordinator forms a new cluster");
        w.Value("stable-margin", $"{b.StableMargin.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)}ms", "how long they must stay the same first");
        w.Value("management-hostname", b.ManagementHostname, "where this node's management endpoint binds (it answers only under a path derived from the secret)");
        w.Value("management-port", Int(b.ManagementPort), "0: one the kernel picks (a worker nobody asks)");
        w.Close();
    }

    private static void RenderTask(Writer w, RunConfiguration config)
    {
        if (config.Task is not { } task)
        {
            w.Comment("task: none; the external evaluator scores candidates with its own data.");
            return;
        }
        if (task.Inline is { } inline)
        {
            w.Section("task", inline);
        }
        else
        {
            w.Value("task", task.File ?? task.Name!, "a built-in task (mnist-noniid, sentiment-minilm) or a task file");
        }
        if (config.Simulation is { } simulation)
        {
            w.Open("simulation");
            w.Value("median-ms", Number(simulation.MedianMs));
            w.Value("sigma", Number(simulation.Sigma));
            w.Value("scoring", simulation.Scoring.ToString().ToLowerInvariant());
            w.Value("seed", Int(simulation.Seed));
            w.Value("reads-weights", simulation.ReadsWeights ? "true" : "false");
            w.Close();
        }
    }

    private static void RenderPopulation(Writer w, PopulationSpec p)
    {
        w.Open("population", "the starting checkpoints (Hugging Face safetensors: a file, a directory, or a sharded index)");
        if (p.Zoo is not null)
        {
            w.Value("zoo", p.Zoo);
        }
        else
        {
            w.List("models", p.Models);
            w.Optional("base", p.Base, "the common base checkpoint, for task-vector merges");
            if (p.Fisher.Count > 0 || p.Gram.Count > 0)
            {
                w.Open("statistics", "per-model merge statistics (evolver stats), one per model in order");
                w.List("fisher", p.Fisher);
                w.List("gram", p.Gram);
                w.Close();
            }
        }
        w.Value("quick", p.Quick ? "on" : "off", "a --quick demo zoo (its smaller data)");
        if (p.DataSeed is { } seed)
        {
            w.Value("data-seed", Int(seed));
        }
        w.Close();
    }

    private static void RenderEvaluator(Writer w, RunConfiguration config)
    {
        var e = config.Evaluator;
        w.Open("evaluator", "who scores candidates: builtin | worker | command | http (docs/external-evaluators.md)");
        w.Value("kind", e.Kind.ToString().ToLowerInvariant());
        if (e.IsExternal)
        {
            if (e.Kind == EvaluatorKind.Http)
            {
                w.Value("url", e.Url!.ToString());
            }
            else
            {
                w.List("command", e.Command, "the program and its arguments (no shell)");
            }
            w.Value("timeout", $"{(long)e.Timeout.TotalSeconds}s", "per request; a worker over it is killed and restarted");
            w.Value("scratch", e.Scratch, "candidates are written here and deleted after scoring");
            w.List("splits", e.Splits, "dev selects; test and ood are only reported");
        }
        w.Close();
    }

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Indented HOCON with every value quoted (JSON strings are valid HOCON strings).</summary>
    private sealed class Writer(bool commented)
    {
        private readonly StringBuilder _text = new();
        private int _depth;

        public void Comment(string text)
        {
            if (commented)
            {
                Line($"# {text}");
            }
        }

        public void Open(string key, string? comment = null)
        {
            if (comment is not null)
            {
                Comment(comment);
            }
            Line($"{key} {{");
            _depth++;
        }

        public void Close()
        {
            _depth--;
            Line("}");
        }

        public void Value(string key, string value, string? comment = null) =>
            Line($"{key} = {Quote(value)}{(commented && comment is not null ? $"    # {comment}" : "")}");

        public void Optional(string key, string? value, string comment)
        {
            if (value is not null)
            {
                Value(key, value, comment);
            }
            else if (commented)
            {
                Line($"# {key} = ...    # {comment}");
            }
        }

        public void List(string key, IEnumerable<string> values, string? comment = null) =>
            Line($"{key} = [{string.Join(", ", values.Select(Quote))}]{(commented && comment is not null ? $"    # {comment}" : "")}");

        public void Map(string key, IReadOnlyDictionary<string, string> values)
        {
            if (values.Count > 0)
            {
                Line($"{key} {{ {string.Join(", ", values.Select(kv => $"{kv.Key} = {Quote(kv.Value)}"))} }}");
            }
        }

        public void Section(string key, Settings section)
        {
            Open(key);
            foreach (var (name, value) in section.Entries)
            {
                switch (value)
                {
                    case Settings inner:
                        Section(name, inner);
                        break;
                    case IReadOnlyList<object> items:
                        List(name, items.Select(i => i as string ?? ""));
                        break;
                    default:
                        Value(name, value as string ?? "");
                        break;
                }
            }
            Close();
        }

        private void Line(string text) => _text.Append(' ', 2 * _depth).Append(text).Append('\n');

        private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

        /// <summary>Plain words and numbers as they are; anything else as a JSON string (valid HOCON).</summary>
        private static string Quote(string value) =>
            System.Text.RegularExpressions.Regex.IsMatch(value, "^[A-Za-z0-9_.-]+$") && !value.Contains("//", StringComparison.Ordinal)
                ? value
                : JsonSerializer.Serialize(value, Relaxed);

        public override string ToString() => _text.ToString();
    }
}
