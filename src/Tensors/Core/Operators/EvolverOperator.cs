namespace EvolverActors.Tensors.Operators;

/// <summary>
/// The Evolver operator (arXiv 2406.12208, Alg. 1): <c>mutant = (1−F)·x_i + F·x_ref</c>, x_ref a uniformly
/// random other member (with probability <see cref="BestProbability"/> the best other member instead).
/// F is an interpolation weight here, so it lives in [0, 1].
/// </summary>
public sealed class EvolverOperator(double bestProbability = 0) : MutationOperator
{
    public double BestProbability { get; } = bestProbability is >= 0 and <= 1
        ? bestProbability
        : throw new EvolverException($"best-probability = {bestProbability} is out of range: it must be in [0, 1]");

    public override string Name => "evolver";
    public override string Reference => "https://arxiv.org/abs/2406.12208";
    public override IReadOnlyList<ParentRole> Roles { get; } = [ParentRole.Reference];
    public override double MaxF => 1;
    public override double[] Coefficients(double f) => [1 - f, f];
}
