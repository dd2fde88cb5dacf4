namespace RecurrentCore.Tests.Reliability;

/// <summary>
/// The switch for the long reliability runs: <c>RECURRENTCORE_LONG_TESTS=1</c> runs the full-size versions (a million
/// streaming steps, BPTT over a million steps, 64 streams × 100k steps, 20k fuzz cases per format); otherwise each
/// test runs a CI-bounded version of the same check.
/// </summary>
internal static class LongTests
{
    public const string Variable = "RECURRENTCORE_LONG_TESTS";

    public static bool Enabled { get; } = Environment.GetEnvironmentVariable(Variable) is "1" or "true" or "yes";

    /// <summary><paramref name="full"/> when long tests are enabled, else <paramref name="ci"/>.</summary>
    public static int Pick(int ci, int full) => Enabled ? full : ci;
}
