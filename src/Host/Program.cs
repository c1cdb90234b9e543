using EvolverActors.Host.Commands;
using EvolverActors.Host.Run;

// The evolver command line: demo, inspect, merge, bench (one file each under Commands/).
EvolverActors.Tensors.Diagnostics.StartupTrace.Mark("main");
if (args.Length > 0 && args[0] == "run")
{
    TorchPreload.Start(); // beside the parsing below: libtorch's load is most of a resumed run's start-up
}
return Cli.Run(args);
