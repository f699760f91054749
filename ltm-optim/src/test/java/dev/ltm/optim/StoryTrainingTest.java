package dev.ltm.optim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ltm.model.LatentThoughtModel;
import dev.ltm.model.LtmConfig;
import dev.ltm.model.TokenBatch;
import dev.ltm.model.tokenizer.ByteTokenizer;
import dev.ltm.optim.data.Dataset;
import dev.ltm.optim.data.StoryCorpus;
import dev.ltm.tensor.Rng;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Dual-rate training on the embedded default corpus lowers the bound on held-out stories. */
class StoryTrainingTest {
    @Test
    void trainingLowersValidationNelboOnTheDefaultCorpus() {
        ByteTokenizer tok = new ByteTokenizer();
        Dataset data = Dataset.build(StoryCorpus.texts(StoryCorpus.generate(5, 200)), tok, 48, 0.1, 5, Dataset.Layout.CONCATENATED);
        LtmConfig config = LtmConfig.builder().vocabSize(tok.vocabSize()).width(32).layers(2).heads(4).latentCount(2).maxSeqLen(48)
                .window(16).build();
        LatentThoughtModel model = new LatentThoughtModel(config, new Rng(5));
        FastFitter.Settings fast = FastFitter.Settings.defaults().withSteps(4);
        DualRateTrainer.Settings settings = DualRateTrainer.Settings.defaults(3, 30, 5).withPeakLr(3e-3f).withFast(fast);
        List<TokenBatch> val = TrainingData.inOrder(data.validation(), 8, 2);
        Evaluator evaluator = new Evaluator(model, fast, 9);
        double before = evaluator.evaluate(val, 4).nelboPerToken();
        Checkpoint.DataSpec spec = new Checkpoint.DataSpec(TrainingData.STORIES, 200, 5, 48, 0.1, "concatenated");
        TrainingRun run = TrainingRun.start(new Checkpoint.Config(Checkpoint.FORMAT, config, tok.name(), spec), model, settings, data, 8);
        run.run(TrainingRun.Options.none(), new TrainingRun.Listener() {});
        double after = evaluator.evaluate(val, 4).nelboPerToken();
        assertThat(after).as("validation NELBO/token before %.3f, after %.3f", before, after).isLessThan(before - 1.0);
    }
}
