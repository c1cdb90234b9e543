using EvolverActors.Host.Config;
using EvolverActors.Tensors;
using EvolverActors.Tensors.Data;
using EvolverActors.Tensors.Models.Bert;
using EvolverActors.Tensors.Tasks;
using EvolverActors.Tests.Checkpoints;
using Xunit;

namespace EvolverActors.Tests.Tasks;

/// <summary>The text-classification kind on JSONL and CSV files written here: formats, fields, label mapping, tokenizer, errors.</summary>
public sealed class TextClassificationTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Member(int classes = 2, Dictionary<string, object>? config = null, bool vocabulary = true)
    {
        using var weights = TaskFiles.BertWeights(classes, seed: 5);
        return TaskFiles.BertCheckpoint(_dir.File("model-" + Guid.NewGuid().ToString("N")[..6]), weights, configExtras: config, vocabulary: vocabulary);
    }

    private string Write(string name, params string[] lines)
    {
        var path = _dir.File(name);
        File.WriteAllLines(path, lines);
        return path;
    }

    private TaskData Load(string body, string? member)
    {
        var task = TaskConfigs.Load(TaskFiles.TaskFile(_dir, "kind = text-classification\n" + body), quick: false);
        return task.Load(new TaskLoadContext(0, member));
    }

    [Fact]
    public void Jsonl_with_numbers_and_csv_with_class_names_and_other_field_names_load_the_same_examples()
    {
        Write("dev.jsonl", "{\"text\": \"good film\", \"label\": 1}", "", "{\"text\": \"bad plot\", \"label\": 0, \"id\": 7}", "{\"text\": \"great fun\", \"label\": 1.0}");
        Write("dev.csv", "id,sentence,sentiment", "1,good film,pos", "2,\"bad plot\",neg", "3,\"great", "fun\",pos");
        var member = Member();

        var jsonl = Load("dev = dev.jsonl", member).Dev;
        var csv = Load("dev = dev.csv\ntext-field = sentence\nlabel-field = sentiment\nlabels = [neg, pos]", member).Dev;

        Assert.Equal(["good film", "bad plot", "great fun"], ((TextSet)jsonl).Texts);
        Assert.Equal([1, 0, 1], jsonl.Labels);
        Assert.Equal(["0", "1"], jsonl.ClassNames);
        Assert.Equal(["good film", "bad plot", "great\nfun"], ((TextSet)csv).Texts.Select(t => t.Replace("\r", "", StringComparison.Ordinal)));
        Assert.Equal([1, 0, 1], csv.Labels);
        Assert.Equal(["neg", "pos"], csv.ClassNames);
    }

    [Fact]
    public void Format_can_be_named_when_the_extension_does_not_tell_and_test_and_ood_are_optional()
    {
        Write("dev.txt", "{\"text\": \"good\", \"label\": \"pos\"}", "{\"text\": \"bad\", \"label\": \"neg\"}");
        Write("ood.data", "text,label", "dull,neg");
        var data = Load("dev = dev.txt\nformat = jsonl\nlabels = [neg, pos]", Member());
        Assert.Null(data.Test);
        Assert.Null(data.Ood);
        Assert.Equal(["dev"], data.Splits.Select(s => s.Name));

        var error = Assert.Throws<EvolverException>(() => Load("dev = dev.txt\nood = ood.data\nlabels = [neg, pos]", Member()));
        Assert.Equal($"{_dir.File("dev.txt")}: cannot tell the format from the extension '.txt': name the file .jsonl or .csv, or set format = jsonl | csv", error.Message);
    }

    [Fact]
    public void Class_names_come_from_the_task_else_the_models_id2label_else_the_labels_are_numbers()
    {
        Write("dev.jsonl", "{\"text\": \"good\", \"label\": \"POSITIVE\"}", "{\"text\": \"bad\", \"label\": 0}");
        var named = Member(config: new() { ["id2label"] = new Dictionary<string, string> { ["0"] = "NEGATIVE", ["1"] = "POSITIVE" } });
        var inverse = Member(config: new() { ["label2id"] = new Dictionary<string, int> { ["NEGATIVE"] = 0, ["POSITIVE"] = 1 } });

        Assert.Equal("1,0 NEGATIVE,POSITIVE", Labels(Load("dev = dev.jsonl", named).Dev));
        Assert.Equal("1,0 NEGATIVE,POSITIVE", Labels(Load("dev = dev.jsonl", inverse).Dev));
        Assert.Equal("0,0 POSITIVE,NEGATIVE", Labels(Load("dev = dev.jsonl\nlabels = [POSITIVE, NEGATIVE]", named).Dev));

        var plain = Member();
        var error = Assert.Throws<EvolverException>(() => Load("dev = dev.jsonl", plain));
        Assert.Equal($"{_dir.File("dev.jsonl")}: line 1: label 'POSITIVE' is not a class number 0..K-1: name the classes in the task settings, e.g. labels = [negative, positive]", error.Message);
    }

    private static string Labels(LabelledSet set) => $"{string.Join(",", set.Labels)} {string.Join(",", set.ClassNames)}";

    [Fact]
    public void The_tokenizer_is_the_first_members_vocab_lower_cased_unless_its_config_says_otherwise()
    {
        Write("dev.jsonl", "{\"text\": \"GOOD Film\", \"label\": 1}", "{\"text\": \"bad\", \"label\": 0}");
        var cased = Member(config: new() { ["do_lower_case"] = false });
        var uncased = Member();
        File.WriteAllText(Path.Combine(uncased, "tokenizer_config.json"), "{\"do_lower_case\": true}");

        var lower = (TextBatcher)Load("dev = dev.jsonl\nmax-length = 16", uncased).Batcher;
        var kept = (TextBatcher)Load("dev = dev.jsonl", cased).Batcher;
        var forced = (TextBatcher)Load("dev = dev.jsonl\nlowercase = on", cased).Batcher;

        long Id(string word) => Array.IndexOf(TaskFiles.Vocabulary, word);
        Assert.Equal([Id("[CLS]"), Id("good"), Id("film"), Id("[SEP]")], lower.Tokenizer.Encode("GOOD Film"));
        Assert.Equal(16, lower.MaxLength);
        Assert.Equal(64, kept.MaxLength); // the default 128, cut to the model's max_position_embeddings
        Assert.Equal([Id("[CLS]"), Id("[UNK]"), Id("[UNK]"), Id("[SEP]")], kept.Tokenizer.Encode("GOOD Film"));
        Assert.True(forced.Tokenizer.Lowercase);
    }

    [Fact]
    public void Every_problem_is_one_line_naming_the_file_and_line()
    {
        var dev = Write("dev.jsonl", "{\"text\": \"good\", \"label\": 1}", "{\"text\": \"bad\", \"label\": 0}");
        var badJson = Write("bad.jsonl", "{\"text\": \"good\", \"label\": 1}", "", "{\"text\": \"bad\", label: 0}");
        var noField = Write("nofield.jsonl", "{\"text\": \"good\", \"label\": 1}", "{\"sentence\": \"bad\", \"label\": 0}");
        var badLabel = Write("badlabel.jsonl", "{\"text\": \"good\", \"label\": [1]}");
        var unknown = Write("unknown.csv", "text,label", "good,pos", "meh,neutral");
        var noColumn = Write("nocolumn.csv", "sentence,label", "good,1");
        var range = Write("range.jsonl", "{\"text\": \"good\", \"label\": 2}");
        var member = Member();
        var noVocabulary = Member(vocabulary: false);

        string Error(string body, string? m) => Assert.Throws<EvolverException>(() => Load(body, m)).Message;

        Assert.Equal($"{_dir.File("none.jsonl")}: no such data file", Error("dev = none.jsonl", member));
        Assert.StartsWith($"{badJson}: line 3: not valid JSON (", Error("dev = bad.jsonl", member), StringComparison.Ordinal);
        Assert.Equal($"{noField}: line 2: no field 'text' (fields: sentence, label)", Error("dev = nofield.jsonl", member));
        Assert.Equal($"{badLabel}: line 1: field 'label' = [1] is neither a class name nor a whole number", Error("dev = badlabel.jsonl", member));
        Assert.Equal($"{unknown}: line 3: unknown label 'neutral': the classes are [neg, pos] (from {_dir.File("task.conf")}: labels)",
            Error("dev = dev.jsonl\ntest = unknown.csv\nlabels = [neg, pos]", member));
        Assert.Equal($"{noColumn}: line 1: no column 'text' in the header (columns: sentence, label)", Error("dev = nocolumn.csv", member));
        Assert.Equal($"{range}: line 1: label 2 is out of range: there are 2 classes (0..1)", Error("dev = range.jsonl", member));
        Assert.Equal($"{member}: the model's classifier.weight has 2 rows, but the task has 3 classes [a, b, c]", Error("dev = dev.jsonl\nlabels = [a, b, c]", member));
        Assert.Equal($"{Path.Combine(noVocabulary, "vocab.txt")}: no vocab.txt: a text-classification task needs the model's WordPiece vocabulary next to its weights (or vocab = FILE)",
            Error("dev = dev.jsonl", noVocabulary));
        Assert.Equal($"{_dir.File("task.conf")}: a text-classification task reads its tokenizer from the first population member's vocab.txt; there is no member here (or set vocab = FILE)",
            Error("dev = dev.jsonl", null));
        Assert.Equal($"{_dir.File("task.conf")}: max-length = 100 is longer than the model's max_position_embeddings 64", Error("dev = dev.jsonl\nmax-length = 100", member));
        Assert.Equal($"{_dir.File("task.conf")}: labels: the class name 'a' appears twice", Error("dev = dev.jsonl\nlabels = [a, a]", member));
    }

    [Fact]
    public void An_explicit_vocabulary_serves_a_task_loaded_without_a_population()
    {
        Write("dev.jsonl", "{\"text\": \"good\", \"label\": 1}", "{\"text\": \"bad\", \"label\": 0}");
        var vocab = _dir.File("vocab.txt");
        File.WriteAllLines(vocab, TaskFiles.Vocabulary);
        var data = Load("dev = dev.jsonl\nvocab = vocab.txt", null);
        Assert.Equal(2, data.Dev.ClassCount);
        Assert.Equal([2L, 5, 3], ((TextBatcher)data.Batcher).Tokenizer.Encode("good"));
    }
}
