using Xunit;

namespace EvolverActors.Tests.Service;

/// <summary>The PostgreSQL server `.ci/run` starts for the tests that need one (<c>EVOLVER_TEST_POSTGRES</c>, see .ci/postgres).</summary>
internal static class TestPostgres
{
    /// <summary>Run ids share one database across test runs: each test takes a fresh one.</summary>
    public static string UniqueRunId() => "pg-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>The connection string, or the test is skipped (saying why) where no server was started.</summary>
    public static string RequireServer()
    {
        var connection = Environment.GetEnvironmentVariable("EVOLVER_TEST_POSTGRES");
        if (string.IsNullOrEmpty(connection))
        {
            Assert.Skip("EVOLVER_TEST_POSTGRES is not set: .ci/run starts PostgreSQL and sets it (see .ci/postgres)");
        }
        return connection;
    }
}
