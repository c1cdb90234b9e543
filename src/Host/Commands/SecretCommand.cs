using System.CommandLine;
using EvolverActors.Actors.Hosting;

namespace EvolverActors.Host.Commands;

/// <summary>
/// <c>evolver secret --out FILE [--force]</c>: writes a fresh cluster secret (a self-signed certificate and its private
/// key, PKCS#12, mode 0600) for runs whose nodes are on several hosts (docs/architecture.md §4, "Security").
/// </summary>
internal static class SecretCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "the file to write (PKCS#12, mode 0600)", Required = true };
        var force = new Option<bool>("--force") { Description = "replace an existing file (nodes with the old secret can no longer join)" };
        var command = new Command("secret", "write a new cluster secret: every node of a cluster needs the same file (evolver.run.cluster.secret)");
        command.Options.Add(output);
        command.Options.Add(force);
        command.SetAction(result => Cli.Guard(() =>
        {
            using var secret = ClusterSecret.Create(result.GetValue(output)!, result.GetValue(force));
            Console.WriteLine($"wrote a cluster secret to {secret.Path} (mode 0600, certificate {secret.Fingerprint}): copy it to every node "
                + $"(scp -p keeps the mode) and name it in each config: evolver.run.cluster.secret = \"{secret.Path}\"");
            return 0;
        }));
        return command;
    }
}
