using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EvolverActors.Actors.Lineage;
using EvolverActors.Actors.Steward;
using EvolverActors.Actors.Storage;
using EvolverActors.Host.Config;
using EvolverActors.Host.Run;

namespace EvolverActors.Host.Commands;

/// <summary><c>evolver lineage --run ID [--format json|dot]</c>: every accepted offspring, read from the journal.</summary>
internal static class LineageCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "run id", Required = true };
        var format = new Option<string>("--format") { Description = "json or dot (Graphviz)", DefaultValueFactory = _ => "json" };
        var runs = RunCommand.RunsRootOption();
        var command = new Command("lineage", "print the lineage of a run's accepted offspring (JSON or Graphviz dot)");
        command.Options.Add(run);
        command.Options.Add(format);
        command.Options.Add(runs);
        command.SetAction(result => Cli.Guard(() =>
        {
            var directory = RunDirectory.Open(result.GetValue(runs)!, result.GetValue(run)!);
            var report = JournalAccess.ReadLedgerAsync(directory).GetAwaiter().GetResult();
            var f = result.GetValue(format)!;
            Console.WriteLine(f switch
            {
                "json" => Json(report, directory.ReadFingerprint()?.Settings, report.State.SearchScores is null ? null : MemberTensorNames(directory)),
                "dot" => Dot(report),
                _ => throw new Tensors.EvolverException($"--format '{f}' is unknown: use json or dot"),
            });
            return 0;
        }));
        return command;
    }

    /// <param name="report">The ledger read back from the journal.</param>
    /// <param name="settings">The run's settings that change results (its run.json), so the lineage says how it was made.</param>
    /// <param name="tensorNames">A coefficient search: the members' tensor names, in their checkpoint's order (what a candidate's logits are laid out by), so the best merge is also given as <c>linear</c> parameters.</param>
    internal static string Json(LedgerReport report, IReadOnlyDictionary<string, string>? settings = null, IReadOnlyList<string>? tensorNames = null) => JsonSerializer.Serialize(new
    {
        settings,
        version = report.State.Version,
        evaluations = report.State.Evaluations,
        accepted = report.State.Accepted,
        rejected = report.State.Rejected,
        rejected_by_operator = report.State.RejectedByOperator,
        rejected_by_slot = report.State.RejectedBySlot,
        initial = (report.Starts.Count > 0 ? report.Starts[0].SlotWeights : null),
        slots = report.State.SlotWeights,
        retired_slots = report.State.RetiredSlots,
        lineage = report.Lineage,
        admitted = report.Membership?.OfType<MemberAdmitted>() ?? [],
        retired = report.Membership?.OfType<MemberRetired>() ?? [],
        guard = Guard(report),
        search = Search(report, tensorNames),
    }, JsonOptions);

    /// <summary>
    /// A coefficient search: its best merge now, and every accepted merge with its logits (per layer and model, layer by
    /// layer; the weights are their per-layer softmax over the models, docs/architecture.md §1); null in a breeding run.
    /// </summary>
    private static object? Search(LedgerReport report, IReadOnlyList<string>? tensorNames) => report.State.SearchScores is null ? null : new
    {
        best_weights_id = report.State.SearchBest,
        // What `fitness.merge-params` takes to merge (or evolve from) the best merge: null before the first acceptance.
        best_merge_params = tensorNames is not null && report.Recipes.LastOrDefault(r => r.Recipe.IsCoefficients) is { } best
            ? CoefficientChild.Options(best.Recipe, tensorNames).ToParameters() : null,
        candidates_scored = report.State.SearchScores.Count,
        accepted = report.Recipes.Where(r => r.Recipe.IsCoefficients).Select(r => new
        {
            version = r.Version,
            sequence = r.Recipe.Sequence,
            weights_id = r.WeightsId,
            dev = r.Score,
            previous_dev = r.PreviousScore,
            evaluation = r.Evaluation,
            members = r.Recipe.Inputs(),
            logits = r.Recipe.Coefficients,
        }),
    };

    /// <summary>The tensor names of the run's first starting member, in its checkpoint's order (read from the header only).</summary>
    internal static IReadOnlyList<string> MemberTensorNames(RunDirectory run)
    {
        var resolved = ResolvedRun.Resolve(RunConfiguration.Load(run.ConfigPath));
        using var reader = Tensors.Checkpoints.Checkpoint.Open(resolved.Population.Members[0]);
        return [.. reader.Specs.Select(spec => spec.Name)];
    }

    /// <summary>A run with a guard: the best-guard version and every acceptance's guard score against the one it was held to; null otherwise.</summary>
    private static object? Guard(LedgerReport report) => report.State.SlotGuards is null ? null : new
    {
        initial = report.Starts.Count > 0 ? report.Starts[0].SlotGuards : null,
        population_initial = report.Starts.Count > 0 ? report.Starts[0].PopulationGuard : null,
        best_version = report.State.BestGuardVersion,
        best = report.State.BestGuard,
        accepted = report.Recipes.Select(r => new { version = r.Version, slot = r.Slot, weights_id = r.WeightsId, guard = r.Guard, previous_guard = r.PreviousGuard }),
    };

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Weights as nodes, "made from" as edges: the target solid, the other parents dashed.</summary>
    internal static string Dot(LedgerReport report)
    {
        var dot = new StringBuilder("digraph lineage {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n");
        foreach (var id in report.Starts.Count > 0 ? report.Starts[0].SlotWeights : [])
        {
            dot.AppendLine(CultureInfo.InvariantCulture, $"  \"{id}\" [style=filled, fillcolor=lightgrey];");
        }
        foreach (var admitted in report.Membership?.OfType<MemberAdmitted>() ?? [])
        {
            dot.AppendLine(CultureInfo.InvariantCulture,
                $"  \"{admitted.WeightsId}\" [label=\"{admitted.WeightsId}\\nadmitted as slot {admitted.Slot} v{admitted.Version}\\n{admitted.Name}\", style=filled, fillcolor=lightblue];");
        }
        var searched = report.Recipes.Where(r => r.Recipe.IsCoefficients).ToDictionary(r => r.WeightsId, StringComparer.Ordinal);
        foreach (var a in report.Lineage)
        {
            if (searched.TryGetValue(a.WeightsId, out var merge))
            {
                // A coefficient search's best merge: made from every member, replacing the best merge before it.
                dot.AppendLine(CultureInfo.InvariantCulture, $"  \"{a.WeightsId}\" [label=\"{a.WeightsId}\\nbest merge v{a.Version}\\ndev {a.Score:F4}\"];");
                if (a.ReplacedWeightsId.Length > 0)
                {
                    dot.AppendLine(CultureInfo.InvariantCulture, $"  \"{a.ReplacedWeightsId}\" -> \"{a.WeightsId}\" [label=\"{a.Operator}\"];");
                }
                foreach (var member in merge.Recipe.Inputs())
                {
                    dot.AppendLine(CultureInfo.InvariantCulture, $"  \"{member}\" -> \"{a.WeightsId}\" [style=dashed];");
                }
                continue;
            }
            dot.AppendLine(CultureInfo.InvariantCulture, $"  \"{a.WeightsId}\" [label=\"{a.WeightsId}\\nslot {a.Slot} v{a.Version}\\ndev {a.Score:F4}\"];");
            dot.AppendLine(CultureInfo.InvariantCulture, $"  \"{a.ReplacedWeightsId}\" -> \"{a.WeightsId}\" [label=\"{a.Operator} F={a.F} CR={a.CR}\"];");
            foreach (var parent in a.ParentWeights)
            {
                dot.AppendLine(CultureInfo.InvariantCulture, $"  \"{parent}\" -> \"{a.WeightsId}\" [style=dashed];");
            }
        }
        return dot.Append('}').ToString();
    }
}
