using EvolverActors.Host.Commands;
using EvolverActors.Host.Run;

// The evolver command line: demo, inspect, merge, bench (one file each under Commands/).
EvolverActors.Tensors.Diagnostics.StartupTrace.Mark("main");
EvolverActors.Tensors.Native.HeapTuning.KeepFreedMemory(); // before libtorch allocates anything
if (args.Length > 0 && args[0] == "run")
{
    StartupWarmup.LoadNatives(); // before libtorch's load takes the dynamic loader's lock
    TorchPreload.Start(); // beside the parsing below: libtorch's load is most of a resumed run's start-up
    _ = StartupWarmup.Start(); // the journal's stack, on a thread of its own beside it
}
return Cli.Run(args);
