package dev.ltm.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ltm.model.LtmConfig;
import dev.ltm.model.io.CheckpointException;
import dev.ltm.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {
    @TempDir Path tmp;

    /** A checkpoint after two real training steps, so that moments and weights are all non-trivial. */
    private Checkpoint trained() {
        TrainingRun run = TrainingRun.start(Tiny.config(), Tiny.model(3), Tiny.settings(5), Tiny.dataset(), 2);
        run.runTo(2, TrainingRun.Options.none(), new TrainingRun.Listener() {});
        return run.checkpoint();
    }

    @Test
    void aCheckpointRoundTripsBitExactly() throws IOException {
        Checkpoint saved = trained();
        Path dir = tmp.resolve("ckpt");
        saved.save(dir);
        assertThat(dir.resolve("config.json")).exists();
        assertThat(dir.resolve("model.safetensors")).exists();
        assertThat(dir.resolve("optimizer.safetensors")).exists();
        assertThat(dir.resolve("trainer.json")).exists();

        Checkpoint back = Checkpoint.load(dir);
        assertThat(back.config()).isEqualTo(saved.config());
        assertThat(back.trainer()).isEqualTo(saved.trainer());
        assertThat(back.trainer().step()).isEqualTo(2);
        assertThat(back.trainer().batchesPosition()).isEqualTo(2);
        assertBitsEqual(back.model().parameters(), saved.model().parameters());
        assertBitsEqual(back.optimizer(), saved.optimizer());
        assertThat(back.optimizer().get("v.tok_emb").data()).isNotEqualTo(new float[back.optimizer().get("v.tok_emb").size()]);

        // Writing what was read gives the same bytes.
        Path again = tmp.resolve("again");
        back.save(again);
        for (String f : new String[] {"config.json", "model.safetensors", "optimizer.safetensors", "trainer.json"}) {
            assertThat(Files.readAllBytes(again.resolve(f))).as(f).isEqualTo(Files.readAllBytes(dir.resolve(f)));
        }
    }

    @Test
    void theMicroBatchIsPartOfTheTrainerStateAndOlderStateMeansTheWholeBatch() throws IOException {
        TrainingRun run = TrainingRun.start(Tiny.config(), Tiny.model(3), Tiny.settings(5).withMicroBatch(1), Tiny.dataset(), 2);
        run.runTo(1, TrainingRun.Options.none(), new TrainingRun.Listener() {});
        Path dir = tmp.resolve("micro");
        run.checkpoint().save(dir);
        assertThat(Checkpoint.load(dir).trainer().settings().microBatch()).isEqualTo(1);
        // A trainer.json written before micro-batches existed has no such field: it resumes with whole batches.
        Path file = dir.resolve("trainer.json");
        String text = Files.readString(file);
        String older = text.replaceAll(",\\s*\"microBatch\"\\s*:\\s*1", "");
        assertThat(older).isNotEqualTo(text).doesNotContain("microBatch");
        Files.writeString(file, older);
        assertThat(Checkpoint.load(dir).trainer().settings().microBatch()).isZero();
    }

    @Test
    void aModelOnlyCheckpointHasNoTrainerState() {
        Path dir = tmp.resolve("model-only");
        new Checkpoint(Tiny.config(), Tiny.model(4), null, null).save(dir);
        Checkpoint back = Checkpoint.load(dir);
        assertThat(back.resumable()).isFalse();
        assertThat(dir.resolve("trainer.json")).doesNotExist();
        assertThatThrownBy(back::resumeTrainer).isInstanceOf(CheckpointException.class).hasMessageContaining("no trainer state");
    }

    @Test
    void aFailedSaveLeavesThePreviousCheckpointIntact() throws IOException {
        Path dir = tmp.resolve("ckpt");
        Checkpoint first = trained();
        first.save(dir);
        byte[] weights = Files.readAllBytes(dir.resolve("model.safetensors"));
        byte[] trainer = Files.readAllBytes(dir.resolve("trainer.json"));

        Checkpoint other = new Checkpoint(Tiny.config(), Tiny.model(99), null, null);
        assertThatThrownBy(() -> other.save(dir, d -> { throw new IOException("disk full"); }))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("disk full");
        assertThat(Files.readAllBytes(dir.resolve("model.safetensors"))).isEqualTo(weights);
        assertThat(Files.readAllBytes(dir.resolve("trainer.json"))).isEqualTo(trainer);
        assertThat(tmp.resolve("ckpt.tmp")).doesNotExist();
        assertBitsEqual(Checkpoint.load(dir).model().parameters(), first.model().parameters());
    }

    @Test
    void anInterruptedSwapIsRecoveredOnLoad() throws IOException {
        Path dir = tmp.resolve("ckpt");
        trained().save(dir);
        Files.move(dir, tmp.resolve("ckpt.old")); // as if the process died between the two renames
        assertThat(Checkpoint.load(dir).trainer().step()).isEqualTo(2);
        assertThat(dir).isDirectory();
    }

    @Test
    void brokenFilesGiveOneLineErrors() throws IOException {
        Path dir = tmp.resolve("ckpt");
        trained().save(dir);
        Path weights = dir.resolve("model.safetensors");
        byte[] good = Files.readAllBytes(weights);

        try (FileChannel ch = FileChannel.open(weights, StandardOpenOption.WRITE)) { ch.truncate(good.length - 10); }
        assertOneLine(dir, "truncated");

        byte[] bad = good.clone();
        ByteBuffer.wrap(bad).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40);
        Files.write(weights, bad);
        assertOneLine(dir, "header length");

        Files.write(weights, good);
        Path config = dir.resolve("config.json");
        String json = Files.readString(config);
        Files.writeString(config, json.replace("\"width\" : 16", "\"width\" : 24"));
        assertOneLine(dir, "has shape");

        Files.writeString(config, json.replace("\"width\" : 16", "\"width\" : 30"));
        assertOneLine(dir, "width 30 must be divisible by heads 4");

        Files.writeString(config, json.replace("\"vocabSize\" : 258", "\"vocabSize\" : 300"));
        assertOneLine(dir, "tokenizer byte has 258 ids");

        Files.delete(config);
        assertOneLine(dir, "file not found");
        assertOneLine(tmp.resolve("nothing"), "not found");
    }

    @Test
    void theConfigMustMatchTheModel() {
        LtmConfig other = LtmConfig.builder().vocabSize(258).width(16).layers(3).heads(4).kvHeads(2).maxSeqLen(23).window(11).build();
        assertThatThrownBy(() -> new Checkpoint(new Checkpoint.Config(1, other, "byte", null), Tiny.model(1), null, null))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static void assertOneLine(Path dir, String fragment) {
        assertThatThrownBy(() -> Checkpoint.load(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(fragment)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    static void assertBitsEqual(Map<String, Tensor> actual, Map<String, Tensor> expected) {
        assertThat(actual.keySet()).containsExactlyInAnyOrderElementsOf(expected.keySet());
        expected.forEach((name, t) -> {
            Tensor a = actual.get(name);
            assertThat(a.shape()).as(name).isEqualTo(t.shape());
            int[] got = new int[a.size()], want = new int[t.size()];
            for (int i = 0; i < got.length; i++) {
                got[i] = Float.floatToRawIntBits(a.data()[i]);
                want[i] = Float.floatToRawIntBits(t.data()[i]);
            }
            assertThat(got).as(name).containsExactly(want);
        });
    }
}
