using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EvolverActors.Actors.Steward;
using EvolverActors.Actors.Storage;
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
            var report = JournalAccess.ReadLedgerAsync(RunDirectory.Open(result.GetValue(runs)!, result.GetValue(run)!)).GetAwaiter().GetResult();
            var f = result.GetValue(format)!;
            Console.WriteLine(f switch
            {
                "json" => Json(report),
                "dot" => Dot(report),
                _ => throw new Tensors.EvolverException($"--format '{f}' is unknown: use json or dot"),
            });
            return 0;
        }));
        return command;
    }

    internal static string Json(LedgerReport report) => JsonSerializer.Serialize(new
    {
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
    }, JsonOptions);

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
        foreach (var a in report.Lineage)
        {
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
