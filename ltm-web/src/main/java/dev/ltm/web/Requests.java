package dev.ltm.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reading the API's requests strictly: a JSON object with known fields of the expected types,
 * query parameters with known names, numbers in range. Anything else is an {@link ApiException}
 * (400) whose one-line message names the field, what it held and what was expected.
 */
final class Requests {
    private Requests() {}

    /** {@code body} as a JSON object whose fields are all in {@code allowed}. */
    static ObjectNode object(ObjectMapper mapper, String body, String example, Set<String> allowed) {
        if (body.isBlank()) throw ApiException.badRequest("the request body is empty; expected a JSON object such as " + example);
        JsonNode node;
        try {
            node = mapper.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).readTree(body);
        } catch (JsonProcessingException e) {
            String m = e.getOriginalMessage() == null ? e.getClass().getSimpleName() : e.getOriginalMessage();
            int nl = m.indexOf('\n');
            var loc = e.getLocation();
            String where = loc == null ? "" : " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
            throw ApiException.badRequest("malformed JSON" + where + ": " + (nl < 0 ? m : m.substring(0, nl)));
        }
        if (!(node instanceof ObjectNode o)) {
            throw ApiException.badRequest("the body is not a JSON object but " + kind(node) + "; expected one such as " + example);
        }
        for (Iterator<String> names = o.fieldNames(); names.hasNext(); ) {
            String n = names.next();
            if (!allowed.contains(n)) {
                throw ApiException.badRequest("unknown field '" + n + "'; expected only " + String.join(", ", allowed));
            }
        }
        return o;
    }

    /** A string field, {@code fallback} when absent or null. */
    static String string(ObjectNode o, String field, String fallback, String expected) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) return fallback;
        if (!n.isTextual()) throw ApiException.badRequest("'" + field + "' is " + kind(n) + "; expected " + expected);
        return n.textValue();
    }

    /** An integer field in {@code [min, max]}, {@code fallback} when absent or null. */
    static long integer(ObjectNode o, String field, long fallback, long min, long max) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) return fallback;
        if (!n.isIntegralNumber() || !n.canConvertToLong()) {
            throw ApiException.badRequest("'" + field + "' is " + shown(n) + "; expected an integer in " + min + ".." + max);
        }
        long v = n.longValue();
        if (v < min || v > max) throw ApiException.badRequest("'" + field + "' is " + v + "; expected an integer in " + min + ".." + max);
        return v;
    }

    /** A number field in {@code [min, max]} ({@code (min, max]} when {@code minExcluded}), {@code fallback} when absent or null. */
    static double number(ObjectNode o, String field, double fallback, double min, boolean minExcluded, double max) {
        JsonNode n = o.get(field);
        String range = (minExcluded ? "(" : "[") + trim(min) + ", " + trim(max) + "]";
        if (n == null || n.isNull()) return fallback;
        if (!n.isNumber()) throw ApiException.badRequest("'" + field + "' is " + shown(n) + "; expected a number in " + range);
        double v = n.doubleValue();
        if (!(minExcluded ? v > min : v >= min) || !(v <= max)) {
            throw ApiException.badRequest("'" + field + "' is " + trim(v) + "; expected a number in " + range);
        }
        return v;
    }

    private static String trim(double v) { return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v); }

    /** The query's parameters (names must be in {@code allowed}, each given once). */
    static Map<String, String> query(String rawQuery, Set<String> allowed) {
        Map<String, String> out = new LinkedHashMap<>();
        if (rawQuery == null || rawQuery.isEmpty()) return out;
        for (String pair : rawQuery.split("&")) {
            int eq = pair.indexOf('=');
            String name = decode(eq < 0 ? pair : pair.substring(0, eq)), value = eq < 0 ? "" : decode(pair.substring(eq + 1));
            if (!allowed.contains(name)) {
                throw ApiException.badRequest("unknown query parameter '" + name + "'; expected only " + String.join(", ", allowed));
            }
            if (out.put(name, value) != null) throw ApiException.badRequest("query parameter '" + name + "' is given twice");
        }
        return out;
    }

    /** A comma-separated list of distinct integers in {@code [0, max]}, at most {@code maxCount} of them, in the order given. */
    static int[] intList(String field, String text, int max, int maxCount) {
        Set<Integer> values = new LinkedHashSet<>();
        for (String part : text.split(",", -1)) {
            String p = part.strip();
            int v;
            try {
                v = Integer.parseInt(p);
            } catch (NumberFormatException e) {
                throw ApiException.badRequest(field + " '" + text + "': '" + p + "' is not an integer; expected a list such as 0,4,16");
            }
            if (v < 0 || v > max) throw ApiException.badRequest(field + " '" + text + "': " + v + " is outside 0.." + max);
            values.add(v);
        }
        if (values.size() > maxCount) {
            throw ApiException.badRequest(field + " '" + text + "': " + values.size() + " values, at most " + maxCount);
        }
        List<Integer> list = new ArrayList<>(values);
        return list.stream().mapToInt(Integer::intValue).toArray();
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("the query is not valid URL encoding: " + s);
        }
    }

    private static String shown(JsonNode n) {
        String text = n.toString();
        return (n.isValueNode() && text.length() <= 24 ? text + ", " : "") + kind(n);
    }

    private static String kind(JsonNode n) {
        return switch (n.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT, POJO -> "an object";
            case STRING -> "a string";
            case NUMBER -> n.isIntegralNumber() ? "an integer" : "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            default -> "a " + n.getNodeType().name().toLowerCase();
        };
    }
}
