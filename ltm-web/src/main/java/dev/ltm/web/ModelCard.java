package dev.ltm.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ltm.optim.Checkpoint;
import java.util.List;

/** {@code GET /api/model}: what the page needs to draw itself, and the model card (config, parameters, training figures). */
final class ModelCard {
    private ModelCard() {}

    /** A prompt for the page's boxes: the opening of a held-out document, cut at a word. */
    static String examplePrompt(List<String> heldOut, int maxSeqLen) {
        if (heldOut.isEmpty()) return "Once upon a time";
        String doc = heldOut.getFirst().strip().replace('\n', ' ');
        int limit = Math.min(40, Math.max(1, maxSeqLen / 2));
        if (doc.length() <= limit) return doc;
        int cut = doc.lastIndexOf(' ', limit);
        return doc.substring(0, cut > 0 ? cut : limit);
    }

    static ObjectNode of(ObjectMapper mapper, ModelService ltm, ModelService baseline, List<String> heldOut, LtmServer.Options options) {
        ObjectNode o = mapper.createObjectNode();
        o.set("ltm", card(mapper, ltm));
        o.set("baseline", baseline == null ? null : card(mapper, baseline));
        o.put("layers", ltm.config().layers());
        o.set("layerGroups", mapper.valueToTree(LtmServer.layerGroups(ltm.config().layers())));
        o.put("allCombinations", ltm.config().layers() <= ModelService.MAX_LAYERS_FOR_ALL_COMBINATIONS);
        o.put("heldOutDocuments", heldOut.size());
        o.put("examplePrompt", examplePrompt(heldOut, ltm.config().maxSeqLen()));
        int[] stops = java.util.Arrays.stream(LtmServer.T_FAST_STOPS).filter(t -> t <= options.maxTFast()).toArray();
        o.set("tFastStops", mapper.valueToTree(stops));
        ObjectNode limits = o.putObject("limits");
        limits.put("maxTokens", Math.min(options.maxTokens(), ltm.config().maxSeqLen()));
        limits.put("maxTFast", options.maxTFast());
        limits.put("queue", options.queue());
        return o;
    }

    private static ObjectNode card(ObjectMapper mapper, ModelService m) {
        Checkpoint c = m.served().checkpoint();
        ObjectNode o = mapper.createObjectNode();
        o.put("source", m.served().source());
        o.put("tokenizer", c.config().tokenizer());
        o.put("parameters", c.model().parameterCount());
        o.put("trainedTFast", m.trainedTFast());
        o.set("config", mapper.valueToTree(c.config().model()));
        o.set("data", c.config().data() == null ? null : mapper.valueToTree(c.config().data()));
        if (c.trainer() == null) {
            o.set("training", null);
        } else {
            ObjectNode t = (ObjectNode) mapper.valueToTree(c.trainer());
            // Tokens seen: each step trains on batchSize windows of the data's sequence length.
            JsonNode data = o.get("data");
            if (data != null && data.has("seqLen")) {
                t.put("tokensSeen", (long) c.trainer().step() * c.trainer().batchSize() * data.get("seqLen").asLong());
            }
            o.set("training", t);
        }
        return o;
    }
}
