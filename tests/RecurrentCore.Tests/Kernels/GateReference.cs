namespace RecurrentCore.Tests.Kernels;

/// <summary>Plain double-precision forward and backward of the gate maths, from float inputs.</summary>
internal static class GateReference
{
    private static double S(double x) => KernelCases.Sigmoid(x);

    public static (double[] Act, double[] C, double[] H, double[] TanhC) LstmForward(ReadOnlySpan<float> pre, ReadOnlySpan<float> bias, ReadOnlySpan<float> cPrev, int n)
        => LstmForward(ToDouble(pre), bias.IsEmpty ? null : ToDouble(bias), ToDouble(cPrev), n);

    public static (double[] Act, double[] C, double[] H, double[] TanhC) LstmForward(double[] pre, double[]? bias, double[] cPrev, int n)
    {
        var act = new double[4 * n];
        var c = new double[n];
        var h = new double[n];
        var tc = new double[n];
        for (int k = 0; k < 4 * n; k++)
        {
            double a = pre[k] + (bias is null ? 0 : bias[k]);
            act[k] = k >= 2 * n && k < 3 * n ? Math.Tanh(a) : S(a);
        }

        for (int j = 0; j < n; j++)
        {
            c[j] = (act[n + j] * cPrev[j]) + (act[j] * act[(2 * n) + j]);
            tc[j] = Math.Tanh(c[j]);
            h[j] = act[(3 * n) + j] * tc[j];
        }

        return (act, c, h, tc);
    }

    public static (double[] DGates, double[] DcPrev) LstmBackward(
        ReadOnlySpan<float> act, ReadOnlySpan<float> cPrev, ReadOnlySpan<double> tanhC, ReadOnlySpan<float> dh, ReadOnlySpan<float> dc, int n)
    {
        var dg = new double[4 * n];
        var dcp = new double[n];
        for (int j = 0; j < n; j++)
        {
            double i = act[j], f = act[n + j], g = act[(2 * n) + j], o = act[(3 * n) + j], tc = tanhC[j];
            double dct = (dc.IsEmpty ? 0 : dc[j]) + (dh[j] * o * (1 - (tc * tc)));
            dg[j] = dct * g * i * (1 - i);
            dg[n + j] = dct * cPrev[j] * f * (1 - f);
            dg[(2 * n) + j] = dct * i * (1 - (g * g));
            dg[(3 * n) + j] = dh[j] * tc * o * (1 - o);
            dcp[j] = dct * f;
        }

        return (dg, dcp);
    }

    /// <summary>GRU (linear_before_reset = 1); returns [r|z|n], gh_n (with bias) and h.</summary>
    public static (double[] Act, double[] GhN, double[] H) GruForward(double[] gi, double[] gh, double[]? bih, double[]? bhh, double[] hPrev, int n)
    {
        var act = new double[3 * n];
        var ghn = new double[n];
        var h = new double[n];
        for (int j = 0; j < n; j++)
        {
            double B(double[]? b, int k) => b is null ? 0 : b[k];
            double r = S(gi[j] + B(bih, j) + gh[j] + B(bhh, j));
            double z = S(gi[n + j] + B(bih, n + j) + gh[n + j] + B(bhh, n + j));
            ghn[j] = gh[(2 * n) + j] + B(bhh, (2 * n) + j);
            double nn = Math.Tanh(gi[(2 * n) + j] + B(bih, (2 * n) + j) + (r * ghn[j]));
            act[j] = r;
            act[n + j] = z;
            act[(2 * n) + j] = nn;
            h[j] = ((1 - z) * nn) + (z * hPrev[j]);
        }

        return (act, ghn, h);
    }

    public static (double[] DGi, double[] DGh, double[] DhPrev) GruBackward(ReadOnlySpan<float> act, ReadOnlySpan<float> ghN, ReadOnlySpan<float> hPrev, ReadOnlySpan<float> dh, int n)
    {
        var dgi = new double[3 * n];
        var dgh = new double[3 * n];
        var dhp = new double[n];
        for (int j = 0; j < n; j++)
        {
            double r = act[j], z = act[n + j], nn = act[(2 * n) + j];
            double dn = dh[j] * (1 - z), dz = dh[j] * (hPrev[j] - nn);
            double dan = dn * (1 - (nn * nn));
            double dar = dan * ghN[j] * r * (1 - r);
            double daz = dz * z * (1 - z);
            dgi[j] = dgh[j] = dar;
            dgi[n + j] = dgh[n + j] = daz;
            dgi[(2 * n) + j] = dan;
            dgh[(2 * n) + j] = dan * r;
            dhp[j] = dh[j] * z;
        }

        return (dgi, dgh, dhp);
    }

    /// <summary>GRU (linear_before_reset = 0) with the caller's W_hn (n×n, row-major) in the loop; returns [r|z|n], rh and h.</summary>
    public static (double[] Act, double[] Rh, double[] H) GruResetBeforeForward(double[] gi, double[] ghRz, double[]? bih, double[]? bhh, double[] whn, double[] hPrev, int n)
    {
        var act = new double[3 * n];
        var rh = new double[n];
        var h = new double[n];
        double B(double[]? b, int k) => b is null ? 0 : b[k];
        for (int j = 0; j < n; j++)
        {
            act[j] = S(gi[j] + B(bih, j) + ghRz[j] + B(bhh, j));
            act[n + j] = S(gi[n + j] + B(bih, n + j) + ghRz[n + j] + B(bhh, n + j));
            rh[j] = act[j] * hPrev[j];
        }

        for (int j = 0; j < n; j++)
        {
            double ghn = 0;
            for (int k = 0; k < n; k++)
            {
                ghn += whn[(j * n) + k] * rh[k];
            }

            double nn = Math.Tanh(gi[(2 * n) + j] + B(bih, (2 * n) + j) + ghn + B(bhh, (2 * n) + j));
            act[(2 * n) + j] = nn;
            double z = act[n + j];
            h[j] = ((1 - z) * nn) + (z * hPrev[j]);
        }

        return (act, rh, h);
    }

    public static double[] ToDouble(ReadOnlySpan<float> x)
    {
        var d = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            d[i] = x[i];
        }

        return d;
    }

    public static float[] ToFloat(ReadOnlySpan<double> x)
    {
        var f = new float[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            f[i] = (float)x[i];
        }

        return f;
    }

    /// <summary>Central difference of <paramref name="loss"/> with respect to every element of <paramref name="x"/> (restored after).</summary>
    public static double[] Gradient(double[] x, Func<double> loss)
    {
        var g = new double[x.Length];
        for (int k = 0; k < x.Length; k++)
        {
            double keep = x[k];
            double eps = 1e-6 * Math.Max(1, Math.Abs(keep));
            x[k] = keep + eps;
            double up = loss();
            x[k] = keep - eps;
            double down = loss();
            x[k] = keep;
            g[k] = (up - down) / (2 * eps);
        }

        return g;
    }

    public static double Dot(double[] a, ReadOnlySpan<float> w)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++)
        {
            s += a[i] * w[i];
        }

        return s;
    }
}
