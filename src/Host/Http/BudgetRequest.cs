using System.Text.Json.Nodes;
using EvolverActors.Actors.Steward;
using EvolverActors.Tensors;

namespace EvolverActors.Host.Http;

/// <summary>
/// The body of <c>POST /api/budget</c>: <c>{"max_evaluations": N, "max_wall_time_s": S, "target_score": X, "patience": P}</c>,
/// each optional (at least one); an unknown key or a value out of range is refused in one line.
/// </summary>
internal static class BudgetRequest
{
    private static readonly string[] Keys = ["max_evaluations", "max_wall_time_s", "target_score", "patience"];

    public static ChangeBudget Parse(JsonNode? body)
    {
        var json = RequestBody.RequireObject(body, "the budget is a JSON object such as {\"max_evaluations\": 5000}", "budget key", Keys);
        var change = new ChangeBudget(
            Number<long>(json, "max_evaluations", 1, long.MaxValue),
            Number<double>(json, "max_wall_time_s", 1, double.MaxValue),
            Number<double>(json, "target_score", double.MinValue, double.MaxValue),
            Number<int>(json, "patience", 0, int.MaxValue));
        return change is { MaxEvaluations: null, MaxWallTimeSeconds: null, TargetScore: null, Patience: null }
            ? throw new EvolverException($"the budget names nothing to change (give one of {string.Join(", ", Keys)})")
            : change;
    }

    private static T? Number<T>(JsonObject json, string key, T min, T max)
        where T : struct, IComparable<T>
    {
        if (json[key] is not { } node)
        {
            return null;
        }
        T value;
        try
        {
            value = node.GetValue<T>();
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException)
        {
            throw new EvolverException($"budget {key}: '{node.ToJsonString()}' is not a {(typeof(T) == typeof(double) ? "number" : "whole number")}");
        }
        return value.CompareTo(min) < 0 || value.CompareTo(max) > 0 || value is double d && !double.IsFinite(d)
            ? throw new EvolverException($"budget {key}: {node.ToJsonString()} is out of range")
            : value;
    }
}
