using System.Text.Json.Nodes;
using EvolverActors.Actors.Steward;

namespace EvolverActors.Host.Http;

/// <summary>
/// The best dev score against evaluations and time since this process started (the page's chart), one point per
/// progress reading and at most <see cref="MaxPoints"/> (older halves are thinned to every other point).
/// </summary>
internal sealed class RunHistory
{
    public const int MaxPoints = 2000;
    private readonly List<(DateTime At, long Evaluations, double BestDev)> _points = [];
    private readonly Lock _lock = new();

    public void Observe(RunProgress progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        lock (_lock)
        {
            if (_points.Count > 0 && _points[^1].Evaluations == progress.Evaluations)
            {
                return;
            }
            _points.Add((DateTime.UtcNow, progress.Evaluations, progress.BestDev));
            if (_points.Count > MaxPoints)
            {
                var older = _points.Take(MaxPoints / 2).Where((_, i) => i % 2 == 0).ToList();
                _points.RemoveRange(0, MaxPoints / 2);
                _points.InsertRange(0, older);
            }
        }
    }

    public JsonArray ToJson()
    {
        lock (_lock)
        {
            return new JsonArray([.. _points.Select(p => (JsonNode)new JsonObject
            {
                ["t"] = p.At,
                ["evaluations"] = p.Evaluations,
                ["best_dev"] = double.IsFinite(p.BestDev) ? p.BestDev : null,
            })]);
        }
    }
}
