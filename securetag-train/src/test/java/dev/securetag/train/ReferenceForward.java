package dev.securetag.train;

import dev.securetag.core.HfConfig;
import dev.securetag.core.SafetensorsReader;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * An independent scalar float64 forward pass of a Llama/Mistral/Mixtral checkpoint, written straight from the HF
 * modelling code (half-split RoPE, GQA by block repeat, top-k renormalised router), used only to check the DJL model.
 */
final class ReferenceForward {
  private final HfConfig c;
  private final SafetensorsReader st;
  private final double[][] loraDelta;
  private final java.util.Map<String, double[]> extra = new java.util.HashMap<>();

  ReferenceForward(Path dir) {
    this.c = HfConfig.load(dir);
    this.st = SafetensorsReader.open(dir);
    this.loraDelta = null;
  }

  /** Adds {@code scale * B A} to the weight of {@code module} (to check adapters independently). */
  void addDelta(String module, float[] a, float[] b, int r, double scale) {
    float[] w = st.readFloats(module + ".weight");
    long[] shape = st.tensor(module + ".weight").orElseThrow().shape();
    int out = (int) shape[0];
    int in = (int) shape[1];
    double[] d = new double[w.length];
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        double acc = 0;
        for (int k = 0; k < r; k++) {
          acc += (double) b[o * r + k] * a[k * in + i];
        }
        d[o * in + i] = w[o * in + i] + scale * acc;
      }
    }
    extra.put(module + ".weight", d);
  }

  private double[] w(String name) {
    double[] e = extra.get(name);
    if (e != null) {
      return e;
    }
    float[] f = st.readFloats(name);
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  double[][] logits(int[] tokens) {
    int t = tokens.length;
    int h = c.hiddenSize();
    int nh = c.numAttentionHeads();
    int nkv = c.numKeyValueHeads();
    int hd = c.headDim();
    double[] emb = w("model.embed_tokens.weight");
    double[][] x = new double[t][];
    for (int i = 0; i < t; i++) {
      x[i] = Arrays.copyOfRange(emb, tokens[i] * h, (tokens[i] + 1) * h);
    }
    int window = c.slidingWindow().orElse(0);
    for (int l = 0; l < c.numHiddenLayers(); l++) {
      String p = "model.layers." + l + ".";
      double[][] hn = norm(x, w(p + "input_layernorm.weight"));
      double[][] q = matmul(hn, w(p + "self_attn.q_proj.weight"), nh * hd);
      double[][] k = matmul(hn, w(p + "self_attn.k_proj.weight"), nkv * hd);
      double[][] v = matmul(hn, w(p + "self_attn.v_proj.weight"), nkv * hd);
      rope(q, nh, hd);
      rope(k, nkv, hd);
      double[][] attn = new double[t][nh * hd];
      for (int head = 0; head < nh; head++) {
        int kvh = head / (nh / nkv);
        for (int i = 0; i < t; i++) {
          double[] s = new double[i + 1];
          double max = Double.NEGATIVE_INFINITY;
          for (int j = 0; j <= i; j++) {
            if (window > 0 && i - j >= window) {
              s[j] = Double.NEGATIVE_INFINITY;
              continue;
            }
            double acc = 0;
            for (int d = 0; d < hd; d++) {
              acc += q[i][head * hd + d] * k[j][kvh * hd + d];
            }
            s[j] = acc / Math.sqrt(hd);
            max = Math.max(max, s[j]);
          }
          double sum = 0;
          for (int j = 0; j <= i; j++) {
            s[j] = Math.exp(s[j] - max);
            sum += s[j];
          }
          for (int j = 0; j <= i; j++) {
            for (int d = 0; d < hd; d++) {
              attn[i][head * hd + d] += s[j] / sum * v[j][kvh * hd + d];
            }
          }
        }
      }
      add(x, matmul(attn, w(p + "self_attn.o_proj.weight"), h));
      double[][] h2 = norm(x, w(p + "post_attention_layernorm.weight"));
      if (c.isMoe()) {
        String mp = p + "block_sparse_moe.";
        int e = c.numLocalExperts();
        double[][] router = matmul(h2, w(mp + "gate.weight"), e);
        double[][] out = new double[t][h];
        for (int i = 0; i < t; i++) {
          double[] pr = softmax(router[i]);
          Integer[] order = new Integer[e];
          for (int j = 0; j < e; j++) {
            order[j] = j;
          }
          Arrays.sort(order, (a, b) -> Double.compare(pr[b], pr[a]));
          double tot = 0;
          for (int j = 0; j < c.numExpertsPerTok(); j++) {
            tot += pr[order[j]];
          }
          for (int j = 0; j < c.numExpertsPerTok(); j++) {
            int ex = order[j];
            String ep = mp + "experts." + ex + ".";
            double[] y = mlp(new double[][] {h2[i]}, w(ep + "w1.weight"), w(ep + "w3.weight"), w(ep + "w2.weight"))[0];
            for (int d = 0; d < h; d++) {
              out[i][d] += pr[ex] / tot * y[d];
            }
          }
        }
        add(x, out);
      } else {
        add(x, mlp(h2, w(p + "mlp.gate_proj.weight"), w(p + "mlp.up_proj.weight"), w(p + "mlp.down_proj.weight")));
      }
    }
    double[][] fin = norm(x, w("model.norm.weight"));
    String head = c.tieWordEmbeddings() ? "model.embed_tokens.weight" : "lm_head.weight";
    return matmul(fin, w(head), c.vocabSize());
  }

  private double[][] mlp(double[][] x, double[] gate, double[] up, double[] down) {
    int inter = c.intermediateSize();
    double[][] g = matmul(x, gate, inter);
    double[][] u = matmul(x, up, inter);
    for (int i = 0; i < g.length; i++) {
      for (int j = 0; j < inter; j++) {
        g[i][j] = g[i][j] / (1 + Math.exp(-g[i][j])) * u[i][j];
      }
    }
    return matmul(g, down, c.hiddenSize());
  }

  private static double[] softmax(double[] z) {
    double max = Arrays.stream(z).max().orElse(0);
    double[] e = new double[z.length];
    double s = 0;
    for (int i = 0; i < z.length; i++) {
      e[i] = Math.exp(z[i] - max);
      s += e[i];
    }
    for (int i = 0; i < z.length; i++) {
      e[i] /= s;
    }
    return e;
  }

  private void rope(double[][] x, int heads, int hd) {
    int half = hd / 2;
    for (int pos = 0; pos < x.length; pos++) {
      for (int head = 0; head < heads; head++) {
        for (int j = 0; j < half; j++) {
          double f = pos / Math.pow(c.ropeTheta(), 2.0 * j / hd);
          double a = x[pos][head * hd + j];
          double b = x[pos][head * hd + j + half];
          x[pos][head * hd + j] = a * Math.cos(f) - b * Math.sin(f);
          x[pos][head * hd + j + half] = b * Math.cos(f) + a * Math.sin(f);
        }
      }
    }
  }

  private double[][] norm(double[][] x, double[] wt) {
    double[][] out = new double[x.length][];
    for (int i = 0; i < x.length; i++) {
      double ss = 0;
      for (double v : x[i]) {
        ss += v * v;
      }
      double r = 1 / Math.sqrt(ss / x[i].length + c.rmsNormEps());
      out[i] = new double[x[i].length];
      for (int j = 0; j < x[i].length; j++) {
        out[i][j] = x[i][j] * r * wt[j];
      }
    }
    return out;
  }

  private static double[][] matmul(double[][] x, double[] w, int out) {
    int in = x[0].length;
    double[][] y = new double[x.length][out];
    for (int i = 0; i < x.length; i++) {
      for (int o = 0; o < out; o++) {
        double acc = 0;
        for (int k = 0; k < in; k++) {
          acc += x[i][k] * w[o * in + k];
        }
        y[i][o] = acc;
      }
    }
    return y;
  }

  private static void add(double[][] x, double[][] y) {
    for (int i = 0; i < x.length; i++) {
      for (int j = 0; j < x[i].length; j++) {
        x[i][j] += y[i][j];
      }
    }
  }
}
