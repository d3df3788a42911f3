using System.Net;
using System.Net.Sockets;

namespace CheckoutService.IntegrationTests.Infrastructure;

/// <summary>Loopback ports for the servers the tests start.</summary>
public static class Ports
{
    /// <summary>A port nobody listens on now (the OS's pick), for a server about to be started.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
