using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace EvolverActors.Host.Http;

/// <summary>A request's <c>Authorization: Bearer …</c> checked against a run's token in constant time (file server, control API).</summary>
internal sealed class BearerToken(string token)
{
    private readonly byte[] _expected = Encoding.UTF8.GetBytes("Bearer " + token);

    public bool Presented(HttpContext context) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(context.Request.Headers.Authorization.ToString()), _expected);
}
