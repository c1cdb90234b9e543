using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using EvolverActors.Tensors.Operators;

namespace EvolverActors.Actors.Lineage;

/// <summary>
/// Everything that determines one offspring (docs/architecture.md §3): which slot it targets and the weight ids of
/// every parent it reads, the operator and its settings, and its seed. The breeding kernel is deterministic, so a
/// recipe and its parents' weights give the child bit for bit; the journal stores recipes, never weights.
/// A recipe's fields never change meaning: <see cref="Format"/> is bumped (and the old format kept readable) instead.
/// </summary>
/// <param name="Format">The recipe format (<see cref="CurrentFormat"/>).</param>
/// <param name="Sequence">The offspring's number in its run, from 0 (issue order; decisions follow it).</param>
/// <param name="Target">The slot the child may replace.</param>
/// <param name="TargetWeights">The weight id the target slot held when the child was bred.</param>
/// <param name="Parents">The other parents' slots, in the operator's role order.</param>
/// <param name="ParentWeights">The weight ids those slots held when the child was bred.</param>
/// <param name="Operator">The mutation operator's name.</param>
/// <param name="F">The operator's scale.</param>
/// <param name="CR">The crossover rate.</param>
/// <param name="Crossover"><c>binomial</c> or <c>exponential</c>.</param>
/// <param name="JRand">Whether one unit is forced to come from the mutant.</param>
/// <param name="Granularity"><c>element</c>, <c>tensor</c> or <c>layer</c>.</param>
/// <param name="Exclude">The regular expression of parameter names that never change (null: none).</param>
/// <param name="Space"><c>raw</c> or <c>task-vector</c>.</param>
/// <param name="Seed">The child's own seed (mask and crossover draws).</param>
/// <param name="Coefficients">
/// A coefficient recipe (format <see cref="CoefficientFormat"/>, operator <c>cma-es</c>): the logits of an evolved
/// <c>linear</c> merge of the target and parents (one per model and layer, layer by layer; docs/architecture.md §1). Its
/// child is that merge; the breeding fields are unused. Null for a bred offspring.
/// </param>
public sealed record Recipe(
    int Format,
    long Sequence,
    int Target,
    string TargetWeights,
    int[] Parents,
    string[] ParentWeights,
    string Operator,
    double F,
    double CR,
    string Crossover,
    bool JRand,
    string Granularity,
    string? Exclude,
    string Space,
    ulong Seed,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    double[]? Coefficients = null)
{
    public const int CurrentFormat = 1;

    /// <summary>The format of a coefficient recipe (<see cref="Coefficients"/> set).</summary>
    public const int CoefficientFormat = 2;

    /// <summary>Whether this is a coefficient recipe: its child is a merge of its inputs, not a bred offspring.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsCoefficients => Coefficients is not null;

    /// <summary>
    /// A coefficient recipe: candidate <paramref name="sequence"/> of an evolved-coefficient search, merging the members
    /// <paramref name="slots"/> (weights <paramref name="weights"/>, in slot order) with <paramref name="logits"/>.
    /// </summary>
    public static Recipe ForCoefficients(long sequence, int[] slots, string[] weights, double[] logits) =>
        new(CoefficientFormat, sequence, slots[0], weights[0], slots[1..], weights[1..], Tensors.Search.CoefficientSearch.OperatorName,
            0, 0, "binomial", false, "element", null, "raw", 0, logits);

    /// <summary>A recipe of the current format from the run's breeding settings.</summary>
    public static Recipe Create(long sequence, int target, string targetWeights, int[] parents, string[] parentWeights,
        string op, BreedingSettings settings, ulong seed) =>
        new(CurrentFormat, sequence, target, targetWeights, parents, parentWeights, op, settings.F, settings.CR,
            Name(settings.Crossover), settings.GuaranteeJRand, Name(settings.Granularity), settings.Exclude?.ToString(),
            settings.Space == WeightSpace.TaskVector ? "task-vector" : "raw", seed);

    /// <summary>
    /// The child's weight id: a content address (SHA-256 of the canonical recipe, whose parents are content addresses
    /// too), so an id always means one exact weight set, and a re-issued recipe names the same child.
    /// </summary>
    public string ComputeId()
    {
        var canonical = string.Join('|',
            Format.ToString(CultureInfo.InvariantCulture), Sequence.ToString(CultureInfo.InvariantCulture),
            Target.ToString(CultureInfo.InvariantCulture), TargetWeights,
            string.Join(',', Parents.Select(p => p.ToString(CultureInfo.InvariantCulture))), string.Join(',', ParentWeights),
            Operator, F.ToString("R", CultureInfo.InvariantCulture), CR.ToString("R", CultureInfo.InvariantCulture),
            Crossover, JRand ? "1" : "0", Granularity, Exclude ?? "", Space, Seed.ToString(CultureInfo.InvariantCulture));
        if (Coefficients is not null)
        {
            // Only coefficient recipes carry it, so every bred offspring's id is what it was before they existed.
            canonical += "|" + string.Join(',', Coefficients.Select(c => c.ToString("R", CultureInfo.InvariantCulture)));
        }
        return "o-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))[..32];
    }

    /// <summary>The breeding settings this recipe was made with (what the kernel needs besides parents and seed).</summary>
    public BreedingSettings Settings() => new()
    {
        F = F,
        CR = CR,
        Crossover = BreedingSettings.ParseCrossover(Crossover),
        GuaranteeJRand = JRand,
        Granularity = BreedingSettings.ParseGranularity(Granularity),
        Exclude = Exclude is null ? null : new System.Text.RegularExpressions.Regex(Exclude, System.Text.RegularExpressions.RegexOptions.CultureInvariant),
        Space = BreedingSettings.ParseSpace(Space),
    };

    /// <summary>Every weight id the child is built from: the target's first, then the other parents'.</summary>
    public IEnumerable<string> Inputs() => ParentWeights.Prepend(TargetWeights);

    private static string Name(CrossoverKind kind) => kind == CrossoverKind.Binomial ? "binomial" : "exponential";

    private static string Name(Granularity granularity) => granularity.ToString().ToLowerInvariant();
}
