using System.Net;
using System.Net.Sockets;

namespace EvolverActors.Tests.Evaluation;

/// <summary>
/// An <see cref="HttpListener"/> on a free loopback port. A port chosen at random can be taken by another
/// process of the test run (CI once failed with "Address already in use"), so this asks the kernel for a free
/// port and tries again with another if it is taken before the listener binds it.
/// </summary>
internal static class LoopbackHttpListener
{
    public static (HttpListener Listener, int Port) Start()
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                listener.Start();
                return (listener, port);
            }
            catch (HttpListenerException) when (attempt < 20)
            {
                listener.Close();
            }
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
