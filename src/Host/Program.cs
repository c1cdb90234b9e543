using EvolverActors.Host.Commands;

// The evolver command line: one subcommand per file under Commands/.
return Cli.Run(args,
    InspectCommand.Create(),
    BenchCommand.Create());
