using System.Globalization;
using RecurrentCore.Models;
using Xunit;

namespace RecurrentCore.Tests.Cli;

/// <summary><c>recurrent eval</c>: one table row per weight format, the library's <see cref="CharLanguageModel.Evaluate"/> values; bad input is one line.</summary>
public sealed class EvalCliTests : IDisposable
{
    private const string Text = "the cat sat on the mat. the dog sat on the log. ";
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    private string Checkpoint()
    {
        string text = _cli.Path("text.txt"), ckpt = _cli.Path("lm.safetensors");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat(Text, 6)));
        var r = _cli.Run("train", "--text", text, "--hidden", "16", "--epochs", "2", "--seq-len", "16", "--batch", "2", "--seed", "1", "--checkpoint", ckpt);
        Assert.True(r.Code == 0, r.Err);
        return ckpt;
    }

    [Fact]
    public void Eval_prints_each_format_against_float32()
    {
        string ckpt = Checkpoint(), held = _cli.Path("held.txt");
        File.WriteAllText(held, "the dog sat on the cat. ");
        var r = _cli.Run("eval", "--checkpoint", ckpt, "--text", held, "--weights-formats", "bf16,f32,int8");
        Assert.True(r.Code == 0, r.Err);
        var model = CharLanguageModel.Load(ckpt);
        var rows = r.Out.Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal)).ToList();
        Assert.Equal("| format | nats/char | vs f32 |", rows[0].TrimEnd());
        string[] order = ["f32", "bf16", "int8"];
        for (int i = 0; i < 3; i++)
        {
            var cells = rows[i + 1].Split('|', StringSplitOptions.TrimEntries);
            Assert.Equal(order[i], cells[1]);
            double loss = model.Evaluate("the dog sat on the cat. ", WeightFormats.Parse(order[i]));
            Assert.Equal(loss.ToString("0.00000", CultureInfo.InvariantCulture), cells[2]);
        }

        Assert.Contains("23 predictions", r.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("the zebra", "'z'")]
    [InlineData("t", "at least 2")]
    public void Text_the_model_cannot_score_is_one_line(string text, string words)
    {
        string ckpt = Checkpoint(), held = _cli.Path("held.txt");
        File.WriteAllText(held, text);
        var r = _cli.Run("eval", "--checkpoint", ckpt, "--text", held);
        Assert.Equal(2, r.Code);
        Assert.Contains(words, r.Err, StringComparison.Ordinal);
        Assert.StartsWith($"recurrent: error: {held}: ", r.Err, StringComparison.Ordinal);
        Assert.Single(r.Err.TrimEnd().Split('\n'));
    }

    [Theory]
    [InlineData("int4", "'int4'")]
    [InlineData("int8,int8", "twice")]
    public void Bad_format_lists_are_one_line(string formats, string words)
    {
        string ckpt = Checkpoint(), held = _cli.Path("held.txt");
        File.WriteAllText(held, "the cat");
        var r = _cli.Run("eval", "--checkpoint", ckpt, "--text", held, "--weights-formats", formats);
        Assert.Equal(2, r.Code);
        Assert.Contains(words, r.Err, StringComparison.Ordinal);
        Assert.Empty(r.Out);
    }

    [Fact]
    public void A_checkpoint_that_is_not_a_char_lm_is_refused()
    {
        string held = _cli.Path("held.txt"), other = _cli.Path("other.safetensors");
        File.WriteAllText(held, "the cat");
        File.WriteAllBytes(other, RecurrentCore.Interop.PyTorchStateDict.ToSafeTensors(new RecurrentParameters(new RecurrentConfig(CellKind.Lstm, 2, 2))));
        var r = _cli.Run("eval", "--checkpoint", other, "--text", held);
        Assert.Equal(2, r.Code);
        Assert.Contains("char-lm", r.Err, StringComparison.Ordinal);
    }
}
