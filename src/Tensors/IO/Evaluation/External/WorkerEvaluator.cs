using System.Diagnostics;
using System.Threading.Channels;

namespace EvolverActors.Tensors.Evaluation;

/// <summary>
/// A long-lived evaluator process speaking newline-delimited JSON over stdin/stdout (docs/external-evaluators.md):
/// one request object per line in, one reply object per line out, in order. Started on first use; a worker that
/// exits is started again on the next request; a request over its timeout kills the worker (and its children); a
/// reply that is not one JSON object with a finite "score" is an error naming the evaluator, after which the worker
/// is restarted too, so a confused worker never answers the wrong request. Its stderr is passed to
/// <c>log</c> line by line and its last lines are quoted when it dies. One request at a time.
/// </summary>
public sealed class WorkerEvaluator : ICheckpointScorer
{
    private const int StderrLinesKept = 20;
    private readonly IReadOnlyList<string> _command;
    private readonly TimeSpan _timeout;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly Action<string>? _log;
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private readonly Queue<string> _stderrTail = new();
    private Process? _process;
    private Channel<string>? _replies;
    private long _nextId;

    /// <param name="name">The evaluator's name in messages.</param>
    /// <param name="command">The program and its arguments (no shell).</param>
    /// <param name="timeout">How long one request may take; the worker is killed past it.</param>
    /// <param name="environment">Extra environment, e.g. <c>EVOLVER_DEVICE</c> and <c>CUDA_VISIBLE_DEVICES</c>.</param>
    /// <param name="log">Receives the worker's stderr, line by line.</param>
    public WorkerEvaluator(string name, IReadOnlyList<string> command, TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment = null, Action<string>? log = null)
    {
        if (command.Count == 0 || string.IsNullOrWhiteSpace(command[0]))
        {
            throw new EvolverException($"evaluator '{name}': the worker command is empty");
        }
        Name = name;
        _command = command;
        _timeout = timeout;
        _environment = environment ?? new Dictionary<string, string>();
        _log = log;
    }

    public string Name { get; }

    /// <summary>How many times the worker process was started (1 after the first request, more after restarts).</summary>
    public int Starts { get; private set; }

    public async Task<ExternalScore> ScoreAsync(ScoreRequest request, CancellationToken cancellation = default)
    {
        await _oneAtATime.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            var (process, replies) = EnsureStarted();
            var id = ++_nextId;
            try
            {
                await process.StandardInput.WriteLineAsync(request.ToJson(id).AsMemory(), cancellation).ConfigureAwait(false);
                await process.StandardInput.FlushAsync(cancellation).ConfigureAwait(false);
            }
            catch (IOException)
            {
                throw Died(process);
            }
            var line = await NextReply(process, replies, request, cancellation).ConfigureAwait(false);
            try
            {
                return ScoreReply.Parse(Name, line, id);
            }
            catch (EvaluatorException)
            {
                Stop(kill: true); // out of step with its requests: start afresh next time
                throw;
            }
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    private async Task<string> NextReply(Process process, Channel<string> replies, ScoreRequest request, CancellationToken cancellation)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(_timeout);
        try
        {
            while (true)
            {
                if (!await replies.Reader.WaitToReadAsync(deadline.Token).ConfigureAwait(false))
                {
                    throw Died(process);
                }
                var line = await replies.Reader.ReadAsync(deadline.Token).ConfigureAwait(false);
                if (line.Trim().Length > 0)
                {
                    return line;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            Stop(kill: true);
            throw new EvaluatorException(Name, $"no reply within {_timeout.TotalSeconds:0.#} s scoring {request.Checkpoint} ({request.Split}); the worker was killed");
        }
        catch (ChannelClosedException)
        {
            throw Died(process);
        }
    }

    private (Process Process, Channel<string> Replies) EnsureStarted()
    {
        if (_process is { HasExited: false } running && _replies is { } open)
        {
            return (running, open);
        }
        Stop(kill: true);
        var start = ProcessStarts.For(_command[0], _environment);
        foreach (var argument in _command.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }
        var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            process.Dispose();
            throw new EvaluatorException(Name, $"cannot start worker '{_command[0]}': {e.Message}");
        }
        Starts++;
        var replies = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        _ = Task.Run(() => Pump(process.StandardOutput, line => replies.Writer.TryWrite(line), () => replies.Writer.TryComplete()));
        _ = Task.Run(() => Pump(process.StandardError, KeepStderr, () => { }));
        (_process, _replies) = (process, replies);
        return (process, replies);
    }

    private static async Task Pump(StreamReader reader, Action<string> onLine, Action onEnd)
    {
        try
        {
            while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                onLine(line);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The process is gone; the end is reported below.
        }
        finally
        {
            onEnd();
        }
    }

    private void KeepStderr(string line)
    {
        lock (_stderrTail)
        {
            _stderrTail.Enqueue(line);
            while (_stderrTail.Count > StderrLinesKept)
            {
                _stderrTail.Dequeue();
            }
        }
        _log?.Invoke($"{Name}: {line}");
    }

    private EvaluatorException Died(Process process)
    {
        process.WaitForExit(2000);
        var code = process.HasExited ? $"exited with code {process.ExitCode}" : "closed its stdout";
        string? last;
        lock (_stderrTail)
        {
            last = _stderrTail.LastOrDefault(l => l.Trim().Length > 0)?.Trim();
        }
        Stop(kill: true);
        return new EvaluatorException(Name, $"worker {code}{(last is null ? "" : $": {last}")} (it is restarted on the next request)");
    }

    /// <summary>Ends the worker: kills it at once, or closes its stdin (a well-behaved worker exits) and kills what is left.</summary>
    private void Stop(bool kill)
    {
        if (_process is not { } process)
        {
            return;
        }
        (_process, _replies) = (null, null);
        try
        {
            if (!process.HasExited)
            {
                if (!kill)
                {
                    process.StandardInput.Close();
                }
                if (kill || !process.WaitForExit(2000))
                {
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(2000);
                }
            }
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }
        process.Dispose();
    }

    public void Dispose()
    {
        Stop(kill: false);
        _oneAtATime.Dispose();
    }
}
