using RecurrentCore.Interop;
using RecurrentCore.Interop.Onnx;
using RecurrentCore.Layers;
using RecurrentCore.Reference;
using Xunit;

namespace RecurrentCore.Tests.Interop.Onnx;

/// <summary>
/// LSTM proj_size on the PyTorch side: a state_dict with weight_hr_l{k} (tests/fixtures/onnx_torch/lstm_proj, written
/// by gen_onnx_models.py from nn.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2)) runs forward and backward
/// on the reference path to PyTorch's float64 results and builds a fast layer; ONNX export refuses it (the fast path's
/// own checks are in Layers/ProjectedLstmTests).
/// </summary>
public class LstmProjectionTests
{
    private static string Dir => Path.Combine(AppContext.BaseDirectory, "fixtures", "onnx_torch", "lstm_proj");

    private static HostTensor Load(string name) => Npy.ReadFile(Path.Combine(Dir, name + ".npy"));

    private static RecurrentParameters Parameters()
    {
        var names = Directory.GetFiles(Dir, "*.npy").Select(f => Path.GetFileNameWithoutExtension(f)!)
            .Where(n => n.StartsWith("weight_", StringComparison.Ordinal) || n.StartsWith("bias_", StringComparison.Ordinal));
        return PyTorchStateDict.ToParameters(CellKind.Lstm, names.Select(n => new KeyValuePair<string, HostTensor>(n, Load(n))), "lstm_proj");
    }

    [Fact]
    public void State_dict_with_weight_hr_infers_the_projection()
    {
        var cfg = Parameters().Config;
        Assert.Equal(new RecurrentConfig(CellKind.Lstm, 3, 5, numLayers: 2, bidirectional: true) { ProjSize = 2 }, cfg);
        Assert.Equal(4, cfg.OutputSize);
    }

    [Fact]
    public void Reference_forward_and_backward_match_pytorch()
    {
        var p = Parameters();
        var inputs = new SequenceInputs(4, 3, Load("input").ToDouble(), Load("h0").ToDouble(), Load("c0").ToDouble());
        var (o, g) = ReferenceRnn.Backward(p, inputs, new UpstreamGradients(Load("grad_output").ToDouble()));
        Close.Assert("output", Load("output").ToDouble(), o.Output, 1e-9);
        Close.Assert("h_n", Load("h_n").ToDouble(), o.HN, 1e-9);
        Close.Assert("c_n", Load("c_n").ToDouble(), o.CN!, 1e-9);
        Close.Assert("grad_input", Load("grad_input").ToDouble(), g.Input, 1e-9);
        Close.Assert("grad_h0", Load("grad_h0").ToDouble(), g.H0, 1e-9);
        Close.Assert("grad_c0", Load("grad_c0").ToDouble(), g.C0!, 1e-9);
        foreach (var (name, _, data) in g.Parameters.Named())
        {
            Close.Assert("grad " + name, Load("grad_" + name).ToDouble(), data, 1e-9);
        }

        Assert.Contains(g.Parameters.Named(), t => t.Name == "weight_hr_l1_reverse");
    }

    [Fact]
    public void Metadata_records_the_projection_and_onnx_export_refuses_it()
    {
        var p = Parameters();
        var file = SafeTensors.Read(PyTorchStateDict.ToSafeTensors(p), "proj.safetensors");
        Assert.Equal("2", file.Metadata[PyTorchStateDict.MetadataKeys.ProjSize]);
        Assert.Equal(p.Config, PyTorchStateDict.ToParameters(file, "proj.safetensors", null, null).Config);
        Assert.Equal(2, RecurrentLayer.FromParameters(p).Config.ProjSize);
        var e = Assert.Throws<ArgumentException>(() => OnnxModel.Export(p));
        Assert.Equal("ONNX's LSTM has no projection (proj_size = 2, weight_hr_l{k}); such a model cannot be exported (Parameter 'p')", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
