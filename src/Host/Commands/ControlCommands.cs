using System.CommandLine;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using EvolverActors.Actors.Storage;
using EvolverActors.Host.Http;
using EvolverActors.Tensors;

namespace EvolverActors.Host.Commands;

/// <summary>
/// <c>evolver pause|resume|stop|budget|admit|retire --run ID</c>: the control API's write calls from the command line
/// (docs/architecture.md §6). They find the run's node through its status (<c>http</c>) and present the run's
/// control token (<c>control.token</c> in the run directory, or <c>EVOLVER_CONTROL_TOKEN</c>).
/// </summary>
internal static class ControlCommands
{
    private static readonly HttpClient Http = new() { Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>How long a call may take: an admission loads, checks and scores a whole model.</summary>
    private static TimeSpan TimeoutOf(string call) => call is "admit" or "retire" ? TimeSpan.FromMinutes(11) : TimeSpan.FromSeconds(15);

    public static IEnumerable<Command> Create() =>
    [
        Simple("pause", "stop handing out work (offspring already handed out are still scored); `evolver resume` goes on", "pause"),
        Simple("resume", "go on after `evolver pause`", "resume"),
        Simple("stop", "stop the run gracefully (it stays resumable), like Ctrl-C in its terminal", "stop"),
        Budget(),
        Admit(),
        Retire(),
    ];

    private static Command Admit()
    {
        var (command, run, runs) = WithRun("admit", "add a checkpoint to the running population as a new slot (its layout is checked first; it is scored, then recorded in the journal)");
        var model = new Option<string>("--model") { Description = "the checkpoint: a Hugging Face model directory or a .safetensors file, on the run's machine", Required = true };
        var name = new Option<string?>("--name") { Description = "what the lineage calls it (default: the directory's name)" };
        var fisher = new Option<string?>("--fisher") { Description = "its Fisher statistics (evolver stats), for a merged run with merge-method = fisher" };
        var gram = new Option<string?>("--gram") { Description = "its RegMean Gram statistics (evolver stats), for a merged run with merge-method = regmean" };
        foreach (var option in new Option[] { model, name, fisher, gram })
        {
            command.Options.Add(option);
        }
        command.SetAction(result => Cli.Guard(() =>
        {
            var body = new JsonObject { ["model"] = Path.GetFullPath(result.GetValue(model)!) };
            if (result.GetValue(name) is { } given)
            {
                body["name"] = given;
            }
            foreach (var (key, option) in new[] { ("fisher", fisher), ("gram", gram) })
            {
                if (result.GetValue(option) is { } path)
                {
                    body[key] = Path.GetFullPath(path);
                }
            }
            return Call(result.GetValue(runs)!, result.GetValue(run)!, "admit", body);
        }));
        return command;
    }

    private static Command Retire()
    {
        var (command, run, runs) = WithRun("retire", "take a slot out of the running population (recorded in the journal; its index stays taken)");
        var slot = new Option<int>("--slot") { Description = "the slot to retire (see `evolver status` or the run's page)", Required = true };
        var reason = new Option<string?>("--reason") { Description = "why, for the lineage" };
        command.Options.Add(slot);
        command.Options.Add(reason);
        command.SetAction(result => Cli.Guard(() =>
        {
            var body = new JsonObject { ["slot"] = result.GetValue(slot) };
            if (result.GetValue(reason) is { } why)
            {
                body["reason"] = why;
            }
            return Call(result.GetValue(runs)!, result.GetValue(run)!, "retire", body);
        }));
        return command;
    }

    private static Command Simple(string name, string description, string call)
    {
        var (command, run, runs) = WithRun(name, description);
        command.SetAction(result => Cli.Guard(() => Call(result.GetValue(runs)!, result.GetValue(run)!, call, null)));
        return command;
    }

    private static Command Budget()
    {
        var (command, run, runs) = WithRun("budget", "change the budget of a running run (kept across resumes unless its config's budget is edited)");
        var maxEvaluations = new Option<long?>("--max-evaluations") { Description = "stop after this many evaluations" };
        var maxWallTime = new Option<string?>("--max-wall-time") { Description = "stop after this long in one session (e.g. 90s, 30m, 12h)" };
        var targetScore = new Option<double?>("--target-score") { Description = "stop once the best dev score reaches this" };
        var patience = new Option<int?>("--patience") { Description = "stop after this many evaluations without an acceptance (0: never)" };
        command.Options.Add(maxEvaluations);
        command.Options.Add(maxWallTime);
        command.Options.Add(targetScore);
        command.Options.Add(patience);
        command.SetAction(result => Cli.Guard(() =>
        {
            var body = new JsonObject();
            if (result.GetValue(maxEvaluations) is { } max)
            {
                body["max_evaluations"] = max;
            }
            if (result.GetValue(maxWallTime) is { } wall)
            {
                body["max_wall_time_s"] = Seconds(wall);
            }
            if (result.GetValue(targetScore) is { } target)
            {
                body["target_score"] = target;
            }
            if (result.GetValue(patience) is { } p)
            {
                body["patience"] = p;
            }
            if (body.Count == 0)
            {
                throw new EvolverException("budget: give at least one of --max-evaluations, --max-wall-time, --target-score, --patience");
            }
            return Call(result.GetValue(runs)!, result.GetValue(run)!, "budget", body);
        }));
        return command;
    }

    private static (Command Command, Option<string> Run, Option<string> Runs) WithRun(string name, string description)
    {
        var run = new Option<string>("--run") { Description = "run id", Required = true };
        var runs = RunCommand.RunsRootOption();
        var command = new Command(name, description);
        command.Options.Add(run);
        command.Options.Add(runs);
        return (command, run, runs);
    }

    private static int Call(string runsRoot, string runId, string call, JsonObject? body)
    {
        var directory = RunDirectory.Open(runsRoot, runId);
        var status = directory.CurrentStatus()
            ?? throw new EvolverException($"run '{runId}' has no status under {directory.Root} (never started?)");
        if (!status.IsRunning)
        {
            throw new EvolverException($"run '{runId}' is not running ({status.State}{(status.Reason is null ? "" : $": {status.Reason}")})");
        }
        if (status.Http is not { } address)
        {
            throw new EvolverException($"run '{runId}' runs but has no HTTP endpoint yet (it starts a second after the run; try again)");
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://{address}/api/{call}")
        {
            Content = new StringContent(body?.ToJsonString() ?? "{}", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ControlToken.ForClient(directory));
        HttpResponseMessage response;
        try
        {
            using var deadline = new CancellationTokenSource(TimeoutOf(call));
            response = Http.Send(request, deadline.Token);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            throw new EvolverException($"run '{runId}': its endpoint http://{address} does not answer ({e.Message})");
        }
        using (response)
        {
            var text = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
            if (!response.IsSuccessStatusCode)
            {
                var error = TryError(text) ?? text;
                throw new EvolverException($"run '{runId}': {call} refused ({(int)response.StatusCode}): {error}");
            }
            Console.WriteLine(Summary(runId, call, text));
            return 0;
        }
    }

    private static string Summary(string runId, string call, string json)
    {
        if (call == "stop")
        {
            return $"run '{runId}': stopping (it stays resumable)";
        }
        var s = JsonNode.Parse(json)!;
        if (s["change"] is JsonObject change)
        {
            return change["kind"]!.GetValue<string>() == "admitted"
                ? $"run '{runId}': {change["name"]} admitted as slot {change["slot"]} ({change["weights"]}, dev {change["score"]}), version {change["version"]}; {s["members"]} members"
                : $"run '{runId}': slot {change["slot"]} retired ({change["reason"]}), version {change["version"]}; {s["members"]} members";
        }
        return $"run '{runId}': {s["state"]}, {s["evaluations"]}/{s["max_evaluations"]} evaluations, {s["accepted"]} accepted, best dev {s["best_dev"]}";
    }

    private static string? TryError(string text)
    {
        try
        {
            return JsonNode.Parse(text)?["error"]?.GetValue<string>();
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>90s, 30m, 12h, 2d, or a number of seconds.</summary>
    private static double Seconds(string text)
    {
        var units = new Dictionary<char, double> { ['s'] = 1, ['m'] = 60, ['h'] = 3600, ['d'] = 86400 };
        var unit = units.TryGetValue(text[^1], out var u) ? u : 1;
        var number = units.ContainsKey(text[^1]) ? text[..^1] : text;
        return double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value * unit
            : throw new EvolverException($"--max-wall-time: '{text}' is not a duration such as 90s, 30m or 12h");
    }
}
