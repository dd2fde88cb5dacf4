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
        for (int k = 0; k < theta.Length; k++)
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
