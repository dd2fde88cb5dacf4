using System.Globalization;

namespace RecurrentCore.Tests;

/// <summary>
/// Seeds derived from a test case's parameters, the same in every process. <see cref="System.HashCode"/> is
/// randomised per process, so seeding a generator with it makes a "reproducible" case draw new data on every run
/// (a finite-difference check near a ReLU kink then fails once in a while and never again).
/// </summary>
internal static class TestSeed
{
    /// <summary>FNV-1a over the invariant text of each part, folded to a non-negative <see cref="int"/>.</summary>
    public static int Of(params object[] parts)
    {
        uint h = 2166136261;
        foreach (object part in parts)
        {
            string s = Convert.ToString(part, CultureInfo.InvariantCulture) ?? string.Empty;
            foreach (char c in s)
            {
                h = unchecked((h ^ c) * 16777619);
            }

            h = unchecked((h ^ 0x1F) * 16777619);
        }

        return (int)(h & 0x7fffffff);
    }
}
