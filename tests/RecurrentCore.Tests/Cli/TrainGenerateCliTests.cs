using System.Globalization;
using System.Text.RegularExpressions;
using Xunit;

namespace RecurrentCore.Tests.Cli;

/// <summary><c>recurrent train</c> and <c>recurrent generate</c>: the loss falls, generation is seeded, bad input is one line.</summary>
public sealed partial class TrainGenerateCliTests : IDisposable
{
    private const string Text = "the cat sat on the mat. the dog sat on the log. ";
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public void Train_lowers_the_loss_and_generate_is_deterministic_given_the_seed()
    {
        string text = _cli.Path("text.txt");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat(Text, 12)));
        string ckpt = _cli.Path("lm.safetensors");
        var (code, output, error) = _cli.Run(
            "train", "--text", text, "--cell", "gru", "--hidden", "24", "--layers", "1", "--epochs", "6", "--seq-len", "16", "--batch", "4",
            "--clip", "1", "--optimizer", "adam", "--lr", "0.02", "--seed", "3", "--checkpoint", ckpt);
        Assert.True(code == 0, error);
        var m = LossLine().Match(output);
        Assert.True(m.Success, output);
        double first = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), last = double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        Assert.True(last < first * 0.7, $"loss {first} -> {last}");
        Assert.Contains("chars/s", error, StringComparison.Ordinal);
        Assert.True(File.Exists(ckpt));
        Assert.Single(Directory.GetFiles(_cli.Scratch, "*.safetensors*"));

        var a = _cli.Run("generate", "--checkpoint", ckpt, "--prompt", "the ", "--length", "60", "--temperature", "0.8", "--top-k", "5", "--seed", "7");
        var b = _cli.Run("generate", "--checkpoint", ckpt, "--prompt", "the ", "--length", "60", "--temperature", "0.8", "--top-k", "5", "--seed", "7");
        Assert.Equal(0, a.Code);
        Assert.Equal(a.Out, b.Out);
        Assert.StartsWith("the ", a.Out, StringComparison.Ordinal);
        Assert.Equal(64, a.Out.TrimEnd('\n', '\r').Length);
        var greedy = _cli.Run("generate", "--checkpoint", ckpt, "--prompt", "the c", "--length", "3", "--temperature", "0");
        Assert.Equal("the cat ", greedy.Out.TrimEnd('\n', '\r'));
    }

    [Fact]
    public void Dropout_is_seeded_and_zero_dropout_is_no_dropout()
    {
        string text = _cli.Path("text.txt");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat(Text, 4)));
        string Loss(params string[] extra)
        {
            var (code, output, error) = _cli.Run(
                ["train", "--text", text, "--cell", "lstm", "--hidden", "8", "--layers", "2", "--epochs", "2", "--seq-len", "8", "--batch", "2",
                 "--seed", "5", "--checkpoint", _cli.Path("lm.safetensors"), .. extra]);
            Assert.True(code == 0, error);
            var m = LossLine().Match(output);
            Assert.True(m.Success, output);
            return m.Value;
        }

        string none = Loss(), zero = Loss("--dropout", "0"), dropped = Loss("--dropout", "0.5"), again = Loss("--dropout", "0.5");
        Assert.Equal(none, zero);
        Assert.Equal(dropped, again);
        Assert.NotEqual(none, dropped);
    }

    [Fact]
    public void Missing_text_is_one_line_and_leaves_no_checkpoint()
    {
        string missing = _cli.Path("nope.txt");
        AssertBadInput(["train", "--text", missing, "--checkpoint", _cli.Path("x.safetensors")], missing);
    }

    [Fact]
    public void Empty_text_is_one_line()
    {
        string empty = _cli.Path("empty.txt");
        File.WriteAllText(empty, string.Empty);
        AssertBadInput(["train", "--text", empty, "--checkpoint", _cli.Path("x.safetensors")], "empty");
    }

    [Theory]
    [InlineData("--cell", "tree", "--cell")]
    [InlineData("--optimizer", "lbfgs", "--optimizer")]
    [InlineData("--hidden", "0", "--hidden")]
    [InlineData("--seq-len", "-3", "--seq-len")]
    [InlineData("--lr", "-1", "--lr")]
    [InlineData("--batch", "500", "--batch")]
    [InlineData("--dropout", "1", "--dropout")]
    [InlineData("--dropout", "-0.5", "--dropout")]
    public void Bad_train_flags_are_one_line(string flag, string value, string named)
    {
        string text = _cli.Path("text.txt");
        File.WriteAllText(text, Text);
        AssertBadInput(["train", "--text", text, flag, value, "--checkpoint", _cli.Path("x.safetensors")], named);
    }

    [Fact]
    public void Unwritable_checkpoint_is_one_line_and_leaves_nothing()
    {
        string text = _cli.Path("text.txt");
        File.WriteAllText(text, Text);
        // A folder that cannot be created (a missing one is created: see ReliabilityCliTests).
        File.WriteAllText(_cli.Path("blocker"), "x");
        string ckpt = _cli.Path(Path.Combine("blocker", "no-such-dir", "x.safetensors"));
        var (code, _, error) = _cli.Run("train", "--text", text, "--hidden", "4", "--seq-len", "8", "--batch", "2", "--checkpoint", ckpt);
        Assert.Equal(2, code);
        string last = error.TrimEnd('\n', '\r').Split('\n')[^1];
        Assert.StartsWith("recurrent: error: ", last, StringComparison.Ordinal);
        Assert.Contains("x.safetensors", last, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
        Assert.Equal(2, Directory.GetFiles(_cli.Scratch, "*", SearchOption.AllDirectories).Length);
    }

    [Fact]
    public void Generate_refuses_a_checkpoint_that_is_not_ours()
    {
        string weights = Path.Combine(AppContext.BaseDirectory, "fixtures", "torch", "lstm_basic", "weights.safetensors");
        AssertBadInput(["generate", "--checkpoint", weights], "char-lm checkpoint");
        string garbage = _cli.Path("garbage.safetensors");
        File.WriteAllText(garbage, "not a safetensors file at all");
        AssertBadInput(["generate", "--checkpoint", garbage], garbage);
        string missing = _cli.Path("missing.safetensors");
        AssertBadInput(["generate", "--checkpoint", missing], missing);
    }

    [Fact]
    public void Generate_refuses_a_prompt_outside_the_vocabulary_and_bad_flags()
    {
        string text = _cli.Path("text.txt");
        File.WriteAllText(text, "abcabcabcabc");
        string ckpt = _cli.Path("lm.safetensors");
        Assert.Equal(0, _cli.Run("train", "--text", text, "--hidden", "4", "--seq-len", "4", "--batch", "2", "--checkpoint", ckpt).Code);
        AssertBadInput(["generate", "--checkpoint", ckpt, "--prompt", "abz"], "'z'");
        AssertBadInput(["generate", "--checkpoint", ckpt, "--temperature", "-1"], "--temperature");
        AssertBadInput(["generate", "--checkpoint", ckpt, "--top-k", "-2"], "--top-k");
    }

    private void AssertBadInput(string[] args, string named)
    {
        var (code, output, error) = _cli.Run(args);
        Assert.Equal(2, code);
        string line = error.TrimEnd('\n', '\r');
        Assert.DoesNotContain('\n', line);
        Assert.StartsWith("recurrent: error: ", line, StringComparison.Ordinal);
        Assert.Contains(named, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
        Assert.False(File.Exists(_cli.Path("x.safetensors")), "checkpoint left behind");
        _ = output;
    }

    [GeneratedRegex(@"mean loss \(nats/char\): epoch 1 ([0-9.]+), epoch \d+ ([0-9.]+)")]
    private static partial Regex LossLine();
}
