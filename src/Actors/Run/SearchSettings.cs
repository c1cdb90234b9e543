using System.Globalization;
using EvolverActors.Tensors.Configuration;
using EvolverActors.Tensors.Search;

namespace EvolverActors.Actors.Run;

/// <summary>
/// An evolved-coefficient search instead of breeding (<c>evolver.run.search</c>; docs/architecture.md §1, "Evolved merge
/// coefficients"): each candidate is a coefficient recipe, a <c>linear</c> merge of the members with CMA-ES-drawn per-model,
/// per-layer weights, scored on dev as it is and accepted when it beats the best merge so far. The members never change;
/// the run's output is the best merge. Off by default.
/// </summary>
public sealed record SearchSettings
{
    /// <summary>Whether the run searches coefficients (<c>search.method = cma-es</c>) rather than breeding offspring.</summary>
    public bool Enabled { get; init; }

    /// <summary>CMA-ES's σ₀ in logit space.</summary>
    public double Sigma { get; init; } = CoefficientSearch.DefaultSigma;

    /// <summary>The settings that change results, for the run's fingerprint: none when off (runs made before it keep theirs).</summary>
    public IEnumerable<KeyValuePair<string, string>> Identity()
    {
        if (Enabled)
        {
            yield return new("search.method", CoefficientSearch.OperatorName);
            yield return new("search.sigma", Sigma.ToString("R", CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Parses the keys of <paramref name="run"/>; each problem is one line naming the key.</summary>
    public static SearchSettings Parse(Settings run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var enabled = run.Choice("search.method", false,
            new Dictionary<string, bool>(StringComparer.Ordinal) { ["none"] = false, [CoefficientSearch.OperatorName] = true });
        var sigma = run.Double("search.sigma", CoefficientSearch.DefaultSigma, 1e-6, 100);
        if (!enabled && run.OptionalText("search.sigma") is not null)
        {
            throw run.Problem("search.sigma", "is set but there is no search: set search.method = cma-es");
        }
        return new SearchSettings { Enabled = enabled, Sigma = sigma };
    }

    /// <summary>What a search run needs of the others settings: merged fitness over a plain <c>linear</c> merge, no guard, no generations of its own.</summary>
    internal void Validate(Settings run, RunSettings settings)
    {
        if (!Enabled)
        {
            return;
        }
        if (settings.Mode != FitnessMode.Merged || settings.MergeMethod != Tensors.Merging.LinearMerge.MethodName)
        {
            throw run.Problem("search.method", "= cma-es searches linear merge coefficients: set fitness.mode = merged and fitness.merge-method = linear");
        }
        if (settings.MergeParameters.Count > 0)
        {
            throw run.Problem("fitness.merge-params", "are set, but a coefficient search starts at equal weights and finds its own: remove them");
        }
        if (settings.Guard.Enabled)
        {
            throw run.Problem("search.method", "= cma-es does not take a guard yet: remove acceptance.guard-fraction");
        }
        if (settings.Schedule == Schedule.Generational)
        {
            throw run.Problem("schedule", "= generational does not apply to a coefficient search, which runs in CMA-ES generations of its own: remove it");
        }
    }
}
