namespace EvolverActors.Tensors.Operators;

/// <summary>The part a population member plays in making a mutant.</summary>
public enum ParentRole
{
    /// <summary>A uniformly random member other than the target (Evolver's x_ref; or the best one, see <see cref="EvolverOperator"/>).</summary>
    Reference,

    /// <summary>The member with the highest fitness.</summary>
    Best,

    /// <summary>Distinct uniformly random members, different from the target and from each other.</summary>
    Random1,
    Random2,
    Random3,
}

/// <summary>
/// A mutation operator: the mutant is a linear combination of the target and the parents,
/// <c>mutant = c_target·x_i + Σ_k c_k·parent_k</c>. Every built-in operator is of this form, which
/// lets one fused kernel make any of them and crossover in a single pass over memory.
/// </summary>
public abstract class MutationOperator
{
    /// <summary>Stable name used in configs, lineage records and the registry.</summary>
    public abstract string Name { get; }

    /// <summary>Where the operator is defined.</summary>
    public abstract string Reference { get; }

    /// <summary>The roles of the parents, in the order <see cref="Coefficients"/> expects them.</summary>
    public abstract IReadOnlyList<ParentRole> Roles { get; }

    public virtual double MinF => 0;
    public virtual double MaxF => 2;

    /// <summary>Coefficients for [target, parent_0, parent_1, ...].</summary>
    public abstract double[] Coefficients(double f);

    /// <summary>Smallest population that has enough distinct members for the roles.</summary>
    public int MinimumPopulation => 1 + Roles.Count(r => r != ParentRole.Best);
}
