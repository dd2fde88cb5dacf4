using RecurrentCore.Cli.Parity;
using RecurrentCore.Interop;
using RecurrentCore.Kernels;
using RecurrentCore.Layers;
using Xunit;

namespace RecurrentCore.Tests.Layers;

/// <summary>The fast path on every PyTorch fixture, for every kernel variant this machine runs.</summary>
[Trait("Category", "Kernels")]
public class FastPathTorchParityTests
{
    public static TheoryData<string, KernelVariant> Cases()
    {
        var data = new TheoryData<string, KernelVariant>();
        foreach (var name in TorchFixtures.Names())
        {
            foreach (var v in KernelCatalog.Supported)
            {
                data.Add(name, v);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Fast_path_matches_pytorch(string name, KernelVariant variant)
    {
        var inputs = ParityInputs.Load(TorchFixtures.Paths(name, backward: true));
        var cfg = inputs.Config;
        var seq = inputs.Sequence;
        var up = inputs.Upstream!;
        int states = cfg.NumLayers * cfg.NumDirections * seq.Batch * cfg.HiddenSize;
        bool lstm = cfg.Cell == CellKind.Lstm;
        var layer = RecurrentLayer.FromParameters(inputs.Parameters, variant);
        var ws = layer.CreateWorkspace(seq.SeqLen, seq.Batch, training: true);
        var output = new float[seq.SeqLen * seq.Batch * cfg.OutputSize];
        var hn = new float[states];
        var cn = lstm ? new float[states] : [];
        static float[] F(double[]? a) => a is null ? [] : Array.ConvertAll(a, v => (float)v);
        layer.Forward(ws, F(seq.Input), seq.SeqLen, seq.Batch, output, hn, cn, F(seq.H0), F(seq.C0), seq.Lengths);
        var grads = new RecurrentGradients(cfg);
        var dx = new float[seq.Input.Length];
        var dh0 = new float[states];
        var dc0 = lstm ? new float[states] : [];
        layer.Backward(ws, F(up.Output), F(up.HN), F(up.CN), grads, dx, dh0, dc0);

        string expected = Path.Combine(TorchFixtures.Dir(name), "expected");
        void Check(string file, float[] ours, double tol) =>
            TorchFixtures.AssertClose(Npy.ReadFile(Path.Combine(expected, file)).ToDouble(), Array.ConvertAll(ours, v => (double)v), tol, file);
        Check("output.npy", output, 1e-5);
        Check("h_n.npy", hn, 1e-5);
        Check("grad_input.npy", dx, 1e-4);
        Check("grad_h0.npy", dh0, 1e-4);
        if (lstm)
        {
            Check("c_n.npy", cn, 1e-5);
            Check("grad_c0.npy", dc0, 1e-4);
        }

        var expectedGrads = SafeTensors.ReadFile(Path.Combine(expected, "grads.safetensors"));
        foreach (var (pname, _, data) in grads.Named())
        {
            TorchFixtures.AssertClose(expectedGrads[pname].ToDouble(), Array.ConvertAll(data, v => (double)v), 1e-4, pname);
        }
    }
}
