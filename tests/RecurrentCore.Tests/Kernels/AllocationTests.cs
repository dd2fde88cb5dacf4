using RecurrentCore.Kernels;
using RecurrentCore.Kernels.Gates;
using RecurrentCore.Kernels.Operators;
using Xunit;

namespace RecurrentCore.Tests.Kernels;

[Trait("Category", "Kernels")]
public class AllocationTests
{
    [Theory]
    [MemberData(nameof(KernelCases.Variants), MemberType = typeof(KernelCases))]
    public void Kernels_do_not_allocate(KernelVariant variant)
    {
        const int n = 37;
        var x = new float[4 * n];
        var y = new float[4 * n];
        var s1 = new float[n];
        var s2 = new float[n];
        var s3 = new float[n];
        var s4 = new float[n];
        var g3 = new float[3 * n];
        var g3b = new float[3 * n];
        var g4 = new float[4 * n];

        void All()
        {
            Activations.Sigmoid(x, y, variant);
            Activations.Tanh(x, x, variant);
            Activations.Exp(x, y, variant);
            LstmGates.Forward(n, g4, x, s1, s2, s3, s4, true, variant);
            LstmGates.Forward(1, n, y, 4 * n, default, s1, 0, s2, 0, s3, 0, default, 0, false, variant);
            LstmGates.Backward(n, g4, s1, default, s4, s2, s3, g4, s3, variant);
            GruGates.Forward(n, g3, g3b, default, default, s1, s2, true, variant);
            GruGates.Backward(n, g3, s1, s2, s3, g3, g3b, s4, variant);
            GruResetBeforeGates.ForwardStage1(n, g3, x.AsSpan(0, 2 * n), default, default, s1, s2, variant);
            GruResetBeforeGates.ForwardStage2(n, g3, s2, default, default, s1, s3, true, variant);
            GruResetBeforeGates.BackwardStage2(n, g3, s1, s3, g3b, s4, variant);
            GruResetBeforeGates.BackwardStage1(n, g3, s1, s2, g3b, s4, variant);
            ElmanGates.Forward(n, s1, default, s2, RnnNonlinearity.Tanh, variant);
            ElmanGates.Backward(n, s2, s3, s4, RnnNonlinearity.Relu, variant);
        }

        AllocationAssert.Zero(All);
    }
}
