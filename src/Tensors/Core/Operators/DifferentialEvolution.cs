namespace EvolverActors.Tensors.Operators;

// Classical differential evolution mutations (Storn & Price 1997, https://doi.org/10.1023/A:1008202821328;
// the names follow Das & Suganthan 2011, https://doi.org/10.1109/TEVC.2010.2059031).

/// <summary>DE/rand/1: <c>x_r1 + F·(x_r2 − x_r3)</c>.</summary>
public sealed class DeRand1 : MutationOperator
{
    public override string Name => "de-rand-1";
    public override string Reference => "https://doi.org/10.1023/A:1008202821328";
    public override IReadOnlyList<ParentRole> Roles { get; } = [ParentRole.Random1, ParentRole.Random2, ParentRole.Random3];
    public override double[] Coefficients(double f) => [0, 1, f, -f];
}

/// <summary>DE/best/1: <c>x_best + F·(x_r1 − x_r2)</c>.</summary>
public sealed class DeBest1 : MutationOperator
{
    public override string Name => "de-best-1";
    public override string Reference => "https://doi.org/10.1109/TEVC.2010.2059031";
    public override IReadOnlyList<ParentRole> Roles { get; } = [ParentRole.Best, ParentRole.Random1, ParentRole.Random2];
    public override double[] Coefficients(double f) => [0, 1, f, -f];
}

/// <summary>DE/current-to-best/1: <c>x_i + F·(x_best − x_i) + F·(x_r1 − x_r2)</c>.</summary>
public sealed class DeCurrentToBest1 : MutationOperator
{
    public override string Name => "de-current-to-best-1";
    public override string Reference => "https://doi.org/10.1109/TEVC.2010.2059031";
    public override IReadOnlyList<ParentRole> Roles { get; } = [ParentRole.Best, ParentRole.Random1, ParentRole.Random2];
    public override double[] Coefficients(double f) => [1 - f, f, f, -f];
}
