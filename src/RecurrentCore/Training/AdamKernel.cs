using System.Numerics;

namespace RecurrentCore.Training;

/// <summary>
/// The Adam moment update and parameter step shared by <see cref="Adam"/> and <see cref="AdamW"/>, in the order and
/// float32 roundings of PyTorch's <c>_single_tensor_adam</c>:
/// <c>m = β₁m + (1−β₁)g; v = β₂v + (1−β₂)g²; v̂ = max(v̂, v) (amsgrad);
/// θ = θ − (γ/(1−β₁ᵗ))·m / (√v / √(1−β₂ᵗ) + ε)</c>, with ε outside the square root.
/// </summary>
internal static class AdamKernel
{
    public static void Step(
        Span<float> theta,
        ReadOnlySpan<float> grad,
        Span<float> m,
        Span<float> v,
        Span<float> vMax,
        long step,
        double lr,
        double beta1,
        double beta2,
        double eps,
        double l2)
    {
        double bc1 = 1 - Math.Pow(beta1, step);
        double bc2 = 1 - Math.Pow(beta2, step);
        float negStepSize = (float)-(lr / bc1);
        float bc2Sqrt = (float)Math.Sqrt(bc2);
        float b1 = (float)beta1;
        float b2 = (float)beta2;
        float c1 = (float)(1 - beta1);
        float c2 = (float)(1 - beta2);
        float e = (float)eps;
        float wd = (float)l2;
        bool amsgrad = !vMax.IsEmpty;
        int k = 0;

        // The same float32 operations lane by lane (no fused multiply-add, IEEE sqrt and division), so the vector
        // body gives the scalar loop's bits.
        if (Vector.IsHardwareAccelerated && theta.Length >= Vector<float>.Count)
        {
            var vb1 = new Vector<float>(b1);
            var vb2 = new Vector<float>(b2);
            var vc1 = new Vector<float>(c1);
            var vc2 = new Vector<float>(c2);
            var ve = new Vector<float>(e);
            var vwd = new Vector<float>(wd);
            var vbc2 = new Vector<float>(bc2Sqrt);
            var vstep = new Vector<float>(negStepSize);
            for (; k <= theta.Length - Vector<float>.Count; k += Vector<float>.Count)
            {
                var t = new Vector<float>(theta[k..]);
                var g = new Vector<float>(grad[k..]);
                if (wd != 0)
                {
                    g += vwd * t;
                }

                var mk = (new Vector<float>(m[k..]) * vb1) + (vc1 * g);
                var vk = (new Vector<float>(v[k..]) * vb2) + (vc2 * g * g);
                mk.CopyTo(m[k..]);
                vk.CopyTo(v[k..]);
                var second = vk;
                if (amsgrad)
                {
                    second = Vector.Max(new Vector<float>(vMax[k..]), second);
                    second.CopyTo(vMax[k..]);
                }

                var denom = (Vector.SquareRoot(second) / vbc2) + ve;
                (t + (vstep * (mk / denom))).CopyTo(theta[k..]);
            }
        }

        for (; k < theta.Length; k++)
        {
            float g = wd != 0 ? grad[k] + (wd * theta[k]) : grad[k];
            m[k] = (m[k] * b1) + (c1 * g);
            v[k] = (v[k] * b2) + (c2 * g * g);
            float second = v[k];
            if (amsgrad)
            {
                second = vMax[k] = MathF.Max(vMax[k], second);
            }

            float denom = (MathF.Sqrt(second) / bc2Sqrt) + e;
            theta[k] += negStepSize * (m[k] / denom);
        }
    }
}
