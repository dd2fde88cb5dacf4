namespace RecurrentCore.Tests.Kernels;

/// <summary>Errors of a float result against a double reference, in units of the float spacing at the reference.</summary>
internal static class Ulp
{
    /// <summary>The spacing of floats at |r| (2^-149 in the subnormal range).</summary>
    public static double Spacing(double r)
    {
        double a = Math.Abs(r);
        int e = a == 0 ? -126 : Math.Max(Math.ILogB(a), -126);
        return Math.ScaleB(1.0, e - 23);
    }

    /// <summary>|y − r| / spacing(r); 0 when both are the same infinity or both NaN; +Inf when only one is.</summary>
    public static double Error(float y, double r)
    {
        if (double.IsNaN(r) || float.IsNaN(y))
        {
            return double.IsNaN(r) && float.IsNaN(y) ? 0 : double.PositiveInfinity;
        }

        // r beyond float range rounds to infinity: that is the correct float result.
        double rf = (float)r;
        if (double.IsInfinity(rf) || float.IsInfinity(y))
        {
            return rf.Equals((double)y) ? 0 : double.PositiveInfinity;
        }

        return Math.Abs(y - r) / Spacing(r);
    }
}
