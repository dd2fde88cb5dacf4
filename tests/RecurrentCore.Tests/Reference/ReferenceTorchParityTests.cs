using RecurrentCore.Cli.Parity;
using RecurrentCore.Interop;
using RecurrentCore.Reference;
using Xunit;

namespace RecurrentCore.Tests.Reference;

/// <summary>The reference path against PyTorch float64 results on every committed fixture, to 1e-9 relative.</summary>
public class ReferenceTorchParityTests
{
    public static TheoryData<string> Cases() => TorchFixtures.All();

    [Fact]
    public void Fixture_set_is_present_and_covers_every_cell()
    {
        var names = TorchFixtures.Names().ToList();
        Assert.True(names.Count >= 30, $"only {names.Count} fixtures under {TorchFixtures.Root}");
        foreach (var cell in new[] { "lstm", "gru", "rnn_tanh", "rnn_relu" })
        {
            Assert.Contains(names, n => n.StartsWith(cell, StringComparison.Ordinal));
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Reference_matches_pytorch(string name)
    {
        var inputs = ParityInputs.Load(TorchFixtures.Paths(name, backward: true));
        var (outputs, grads) = ReferenceRnn.Backward(inputs.Parameters, inputs.Sequence, inputs.Upstream!);
        string expected = Path.Combine(TorchFixtures.Dir(name), "expected");
        double[] Expected(string file) => Npy.ReadFile(Path.Combine(expected, file)).ToDouble();
        const double Tol = 1e-9;

        TorchFixtures.AssertClose(Expected("output.npy"), outputs.Output, Tol, "output");
        TorchFixtures.AssertClose(Expected("h_n.npy"), outputs.HN, Tol, "h_n");
        TorchFixtures.AssertClose(Expected("grad_input.npy"), grads.Input, Tol, "grad_input");
        TorchFixtures.AssertClose(Expected("grad_h0.npy"), grads.H0, Tol, "grad_h0");
        if (inputs.Config.Cell == CellKind.Lstm)
        {
            TorchFixtures.AssertClose(Expected("c_n.npy"), outputs.CN!, Tol, "c_n");
            TorchFixtures.AssertClose(Expected("grad_c0.npy"), grads.C0!, Tol, "grad_c0");
        }

        var expectedGrads = SafeTensors.ReadFile(Path.Combine(expected, "grads.safetensors"));
        Assert.Equal(inputs.Parameters.Named().Count(), expectedGrads.Tensors.Count);
        foreach (var (pname, _, data) in grads.Parameters.Named())
        {
            TorchFixtures.AssertClose(expectedGrads[pname].ToDouble(), data, Tol, pname);
        }
    }
}
