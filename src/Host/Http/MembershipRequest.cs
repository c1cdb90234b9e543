using System.Text.Json.Nodes;
using EvolverActors.Actors.Steward;
using EvolverActors.Host.Run;
using EvolverActors.Tensors;

namespace EvolverActors.Host.Http;

/// <summary>
/// The bodies of <c>POST /api/admit</c> (<c>{"model": "/path/to/checkpoint", "name": "optional"}</c>, with
/// <c>"fisher"</c> or <c>"gram"</c>: the path of its statistics file in a merged fisher or regmean run) and
/// <c>POST /api/retire</c> (<c>{"slot": K, "reason": "optional"}</c>); an unknown key or a missing value is one line.
/// </summary>
internal static class MembershipRequest
{
    public static (string Model, string? Name, MemberImport.GivenStatistics Statistics) Admission(JsonNode? body)
    {
        var json = Object(body, "the admission is a JSON object such as {\"model\": \"/models/new-finetune\"}", "model", "name", "fisher", "gram");
        var model = Text(json, "model") ?? throw new EvolverException("admit: 'model' (the checkpoint's path on the run's node) is missing");
        return (model, Text(json, "name"), new MemberImport.GivenStatistics(Text(json, "fisher"), Text(json, "gram")));
    }

    public static RetireMember Retirement(JsonNode? body)
    {
        var json = Object(body, "the retirement is a JSON object such as {\"slot\": 3}", "slot", "reason");
        if (json["slot"] is not { } slot)
        {
            throw new EvolverException("retire: 'slot' is missing");
        }
        int value;
        try
        {
            value = slot.GetValue<int>();
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException)
        {
            throw new EvolverException($"retire: slot '{slot.ToJsonString()}' is not a whole number");
        }
        return new RetireMember(value, Text(json, "reason") ?? "retired by the operator");
    }

    /// <summary>What the answer of an admission or retirement says of the event stored.</summary>
    public static JsonObject Describe(IMembershipChange change) => change switch
    {
        MemberAdmitted a => new JsonObject
        {
            ["kind"] = "admitted",
            ["slot"] = a.Slot,
            ["weights"] = a.WeightsId,
            ["name"] = a.Name,
            ["source"] = a.Source,
            ["score"] = a.Score,
            ["population_score"] = a.PopulationScore,
            ["version"] = a.Version,
        },
        MemberRetired r => new JsonObject
        {
            ["kind"] = "retired",
            ["slot"] = r.Slot,
            ["weights"] = r.WeightsId,
            ["reason"] = r.Reason,
            ["population_score"] = r.PopulationScore,
            ["version"] = r.Version,
        },
        _ => throw new ArgumentException($"unknown membership change {change.GetType().Name}", nameof(change)),
    };

    private static JsonObject Object(JsonNode? body, string shape, params string[] keys) => RequestBody.RequireObject(body, shape, "key", keys);

    private static string? Text(JsonObject json, string key)
    {
        if (json[key] is not { } node)
        {
            return null;
        }
        try
        {
            var text = node.GetValue<string>();
            return string.IsNullOrWhiteSpace(text) ? null : text;
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException)
        {
            throw new EvolverException($"'{key}' is not a string: {node.ToJsonString()}");
        }
    }
}
