using EvolverActors.Host.Commands;

// The evolver command line: demo, inspect, merge, bench (one file each under Commands/).
return Cli.Run(args);
