#include "train/attention_pictures.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <vector>

#include "engine/ops.h"
#include "engine/wording.h"
#include "io/dataset.h"
#include "io/image_grid.h"

namespace glimpse {

namespace {

// One column of the picture: for image i, an h x w map, and maybe a query cell to outline (a cell
// of a qh x qw grid of query positions over the same image).
struct MapColumn {
  std::function<std::vector<float>(int64_t i)> values;
  int64_t h = 0, w = 0;
  bool absolute = false;  // drawn as it is, on [0, 1], instead of scaled by its own range
  int64_t query = -1, qh = 1, qw = 1;
  std::string label{};  // over the column
};

// A map per image from a (N, 1, h, w) or (N, C, h, w) tensor: channel 0 or the channel mean.
MapColumn spatial(const Tensor& maps) {
  Tensor m = maps.shape()[1] == 1 ? maps : channel_mean(maps);
  const int64_t h = m.shape()[2], w = m.shape()[3];
  return {
      .values = [m, h, w](int64_t i) { return std::vector<float>(m.data() + i * h * w, m.data() + (i + 1) * h * w); },
      .h = h,
      .w = w};
}

// ECA's weights (N, C) as one row of C bars.
MapColumn channel_bars(const Tensor& weights) {
  const int64_t C = weights.shape()[1];
  return {.values = [weights,
                     C](int64_t i) { return std::vector<float>(weights.data() + i * C, weights.data() + (i + 1) * C); },
          .h = 1,
          .w = C,
          .absolute = true};
}

// Row `query` of attention weights A (N * heads, Q, K): the weights of that query over a kh x kw
// grid of keys, for image i's head `head` (or the mean of its `heads` heads when head < 0).
MapColumn query_row(const Tensor& A, int64_t query, int64_t qh, int64_t qw, int64_t kh, int64_t kw, int64_t heads = 1,
                    int64_t head = 0) {
  const int64_t Q = A.shape()[1], K = A.shape()[2];
  return {.values =
              [A, query, Q, K, heads, head](int64_t i) {
                std::vector<float> row(static_cast<size_t>(K), 0.0f);
                for (int64_t h = 0; h < heads; h++) {
                  if (head >= 0 && h != head) continue;
                  const real* a = A.data() + ((i * heads + h) * Q + query) * K;
                  for (int64_t k = 0; k < K; k++) row[static_cast<size_t>(k)] += a[k];
                }
                return row;
              },
          .h = kh,
          .w = kw,
          .query = query,
          .qh = qh,
          .qw = qw};
}

// CCNet's weights of query u spread over the H x W map: after one pass (A1), or after both
// composed, sum over w in cross(u) of A2[u, w] A1[w, v] (how the second pass reaches every v).
MapColumn criss_cross_reach(const Tensor& A1, const Tensor& A2, int64_t u, bool both_passes) {
  const int64_t H = A1.shape()[1], W = A1.shape()[2], T = A1.shape()[3];
  return {.values =
              [A1, A2, u, both_passes, H, W, T](int64_t i) {
                std::vector<float> map(static_cast<size_t>(H * W), 0.0f);
                const real* a1 = A1.data() + i * H * W * T;
                const real* a2 = A2.data() + i * H * W * T;
                for (int64_t t = 0; t < T; t++) {
                  const int64_t w = criss_cross_key(u, t, H, W);
                  if (!both_passes) {
                    map[static_cast<size_t>(w)] += a1[u * T + t];
                    continue;
                  }
                  for (int64_t s = 0; s < T; s++)
                    map[static_cast<size_t>(criss_cross_key(w, s, H, W))] += a2[u * T + t] * a1[w * T + s];
                }
                return map;
              },
          .h = H,
          .w = W,
          .query = u,
          .qh = H,
          .qw = W};
}

// The picture of one model: what it shows, and its columns after the image.
struct AttentionPicture {
  std::string title;
  std::vector<MapColumn> columns;
};

// "stage 2\n16x16": a column's label, in two lines to fit over a tile.
std::string stage_label(const char* what, int64_t k, const MapColumn& column) {
  return std::string(what) + " " + std::to_string(k) + "\n" + std::to_string(column.h) + "x" + std::to_string(column.w);
}

// "query (4,4)": the cell a query column outlines, as (row, column).
std::string query_label(const MapColumn& column) {
  return "query (" + std::to_string(column.query / column.qw) + "," + std::to_string(column.query % column.qw) + ")";
}

// Columns of the last block of each of the three stages (or of attention56's three modules).
AttentionPicture stage_picture(const std::string& title, const char* what, std::vector<MapColumn> columns) {
  for (size_t k = 0; k < columns.size(); k++)
    columns[k].label = stage_label(what, static_cast<int64_t>(k) + 1, columns[k]);
  return {title, std::move(columns)};
}

// Column `what` of the last block of each stage (its Observer name below layerK.2.attention).
std::vector<MapColumn> per_stage(const Observer& seen, const std::string& what, MapColumn (*column)(const Tensor&)) {
  std::vector<MapColumn> columns;
  for (const char* stage : {"layer1.2.attention.", "layer2.2.attention.", "layer3.2.attention."})
    columns.push_back(column(seen.get(stage + what)));
  return columns;
}

// Channel weights in [0, 1], a row of bars per stage.
AttentionPicture channel_picture(const std::string& title, const Observer& seen) {
  AttentionPicture picture{title, per_stage(seen, "weights", channel_bars)};
  for (size_t k = 0; k < picture.columns.size(); k++)
    picture.columns[k].label =
        "stage " + std::to_string(k + 1) + "\n" + std::to_string(picture.columns[k].w) + " channels";
  return picture;
}

// The picture of each model, from what one forward observed.
AttentionPicture se_picture(const Observer& seen) { return channel_picture("se_resnet20: SE's channel weights", seen); }

AttentionPicture cbam_picture(const Observer& seen) {
  return stage_picture("cbam_resnet20: CBAM's spatial map Ms", "stage", per_stage(seen, "spatial.map", spatial));
}

AttentionPicture attention56_picture(const Observer& seen) {
  return stage_picture("attention56: soft masks, channel mean", "module",
                       {spatial(seen.get("attention1.mask")), spatial(seen.get("attention2.mask")),
                        spatial(seen.get("attention3.mask"))});
}

AttentionPicture eca_picture(const Observer& seen) {
  return channel_picture("eca_resnet20: ECA's channel weights", seen);
}

AttentionPicture gc_picture(const Observer& seen) {
  return stage_picture("gc_resnet20: where GC pools its context", "stage", per_stage(seen, "alpha", spatial));
}

AttentionPicture non_local_picture(const Observer& seen) {
  Tensor f2 = seen.get("layer2.non_local.f"), f3 = seen.get("layer3.non_local.f");  // (N, 256, 64), (N, 64, 16)
  AttentionPicture picture{"nl_resnet20: non-local weights of a query",
                           {query_row(f2, 4 * 16 + 4, 16, 16, 8, 8), query_row(f2, 11 * 16 + 11, 16, 16, 8, 8),
                            query_row(f3, 2 * 8 + 2, 8, 8, 4, 4), query_row(f3, 5 * 8 + 5, 8, 8, 4, 4)}};
  for (size_t k = 0; k < picture.columns.size(); k++)
    picture.columns[k].label = "stage " + std::to_string(k / 2 + 2) + "\n" + query_label(picture.columns[k]);
  return picture;
}

AttentionPicture dual_attention_picture(const Observer& seen) {
  Tensor S = seen.get("attention.position.S");  // (N, 64, 64)
  AttentionPicture picture{
      "da_resnet20: position attention of a query",
      {query_row(S, 1 * 8 + 1, 8, 8, 8, 8), query_row(S, 4 * 8 + 4, 8, 8, 8, 8), query_row(S, 6 * 8 + 2, 8, 8, 8, 8)}};
  for (MapColumn& column : picture.columns) column.label = query_label(column) + "\n8x8";
  return picture;
}

AttentionPicture criss_cross_picture(const Observer& seen) {
  Tensor A1 = seen.get("attention.A1"), A2 = seen.get("attention.A2");  // (N, 8, 8, 15)
  AttentionPicture picture{"cc_resnet20: criss-cross weights of a query",
                           {criss_cross_reach(A1, A2, 2 * 8 + 2, false), criss_cross_reach(A1, A2, 2 * 8 + 2, true),
                            criss_cross_reach(A1, A2, 5 * 8 + 5, false), criss_cross_reach(A1, A2, 5 * 8 + 5, true)}};
  for (size_t k = 0; k < picture.columns.size(); k++)
    picture.columns[k].label = query_label(picture.columns[k]) + (k % 2 == 0 ? "\n1 pass" : "\n2 passes");
  return picture;
}

AttentionPicture augmented_picture(const Observer& seen) {
  Tensor A = seen.get("layer3.2.conv1.weights");  // (N * 4, 64, 64)
  AttentionPicture picture{"aa_resnet20: attention heads of a query", {}};
  for (int64_t head = 0; head < 4; head++) {
    picture.columns.push_back(query_row(A, 2 * 8 + 2, 8, 8, 8, 8, 4, head));
    picture.columns.back().label = "head " + std::to_string(head + 1) + "\n" + query_label(picture.columns.back());
  }
  picture.columns.push_back(query_row(A, 5 * 8 + 5, 8, 8, 8, 8, 4, -1));
  picture.columns.back().label = "mean of heads\n" + query_label(picture.columns.back());
  return picture;
}

using PictureOf = AttentionPicture (*)(const Observer& seen);

// Every model whose attention --visualize draws, with its picture.
const std::vector<std::pair<std::string, PictureOf>>& attention_pictures() {
  static const std::vector<std::pair<std::string, PictureOf>> pictures = {{"se_resnet20", se_picture},
                                                                          {"cbam_resnet20", cbam_picture},
                                                                          {"attention56", attention56_picture},
                                                                          {"eca_resnet20", eca_picture},
                                                                          {"gc_resnet20", gc_picture},
                                                                          {"nl_resnet20", non_local_picture},
                                                                          {"da_resnet20", dual_attention_picture},
                                                                          {"cc_resnet20", criss_cross_picture},
                                                                          {"aa_resnet20", augmented_picture}};
  return pictures;
}

// "se_resnet20, cbam_resnet20, ... and aa_resnet20".
std::string drawn_models() {
  const auto& pictures = attention_pictures();
  std::string names;
  for (size_t k = 0; k < pictures.size(); k++)
    names += (k == 0 ? "" : k + 1 == pictures.size() ? " and " : ", ") + pictures[k].first;
  return names;
}

PictureOf picture_of(const std::string& model_name) {
  for (const auto& [name, picture] : attention_pictures())
    if (name == model_name) return picture;
  return nullptr;
}

// Image i's map of one column, drawn in tile (i, col), its query cell outlined.
void draw_map(ImageGrid& grid, int64_t i, int64_t col, const MapColumn& column) {
  std::vector<float> map = column.values(i);
  if (!column.absolute) normalise_to_unit(map.data(), column.h * column.w);
  grid.put_heat(i, col, map.data(), column.h, column.w);
  if (column.query < 0) return;
  const double qy = static_cast<double>(column.query / column.qw), qx = static_cast<double>(column.query % column.qw);
  grid.mark(i, col, qy / column.qh, qx / column.qw, (qy + 1) / column.qh, (qx + 1) / column.qw);
}

// The first image of each class in label order (ten on CIFAR-10), then, if the set lacks a
// class, the next images, up to ten in all.
std::vector<int64_t> one_image_per_class(const ImageDataset& set) {
  const int64_t wanted = std::min<int64_t>(10, set.size());
  std::vector<int64_t> chosen;
  for (int64_t label = 0; label < 10; label++)
    for (int64_t i = 0; i < set.size(); i++)
      if (set.labels[static_cast<size_t>(i)] == label) {
        chosen.push_back(i);
        break;
      }
  for (int64_t i = 0; i < set.size() && static_cast<int64_t>(chosen.size()) < wanted; i++)
    if (std::find(chosen.begin(), chosen.end(), i) == chosen.end()) chosen.push_back(i);
  return chosen;
}

}  // namespace

bool draws_attention(const std::string& model_name) { return picture_of(model_name) != nullptr; }

int64_t draw_attention(Module& model, const std::string& model_name, const Tensor& raw, const Tensor& x,
                       const std::vector<int64_t>& labels, const std::vector<std::string>& class_names,
                       const std::string& path) {
  model.eval();
  NoGradGuard no_grad;
  Observer seen(model);
  const PictureOf picture_for = picture_of(model_name);
  if (!picture_for) fail("--visualize draws the attention of " + drawn_models() + ", not " + model_name);
  const std::vector<int64_t> predicted = argmax(model.forward(x));
  AttentionPicture picture = picture_for(seen);
  const bool absolute = picture.columns.front().absolute;
  GridLabels labels_around{.title = picture.title + (picture.columns.front().query >= 0 ? " (cyan box)" : ""),
                           .columns = {"image"},
                           .caption_lines = 2,
                           .heat_low = absolute ? "0" : "least",
                           .heat_high = absolute ? "1" : "most (each map to its own range)"};
  for (const MapColumn& column : picture.columns) labels_around.columns.push_back(column.label);
  const int64_t count = raw.shape()[0], S = raw.shape()[2], plane = S * S;
  ImageGrid grid(count, 1 + static_cast<int64_t>(picture.columns.size()), S, 3, labels_around);
  for (int64_t i = 0; i < count; i++) {
    grid.put_rgb(i, 0, raw.data() + i * 3 * plane, S, S);
    grid.caption_prediction(i, 0, class_name(class_names, labels[static_cast<size_t>(i)]),
                            class_name(class_names, predicted[static_cast<size_t>(i)]));
    for (size_t k = 0; k < picture.columns.size(); k++)
      draw_map(grid, i, 1 + static_cast<int64_t>(k), picture.columns[k]);
  }
  grid.write(path);
  return static_cast<int64_t>(picture.columns.size());
}

void draw_attention_on_test_images(Module& model, const std::string& model_name, const ImageDataset& test_set,
                                   const std::vector<float>& mean, const std::vector<float>& stddev,
                                   const std::string& path) {
  const std::vector<int64_t> chosen = one_image_per_class(test_set);
  const int64_t count = static_cast<int64_t>(chosen.size()), S = 32, plane = S * S;
  Tensor raw = Tensor::empty({count, 3, S, S});  // pixels in [0, 1], for the picture
  Tensor x = Tensor::empty({count, 3, S, S});    // normalised, for the model
  std::vector<int64_t> labels;
  for (int64_t row = 0; row < count; row++) {
    labels.push_back(test_set.labels[static_cast<size_t>(chosen[static_cast<size_t>(row)])]);
    const uint8_t* image = test_set.image(chosen[static_cast<size_t>(row)]);  // (3, 32, 32)
    for (int64_t i = 0; i < 3 * plane; i++) {
      const size_t c = static_cast<size_t>(i / plane);
      const int64_t at = row * 3 * plane + i;
      raw.data()[at] = image[i] / 255.0f;
      x.data()[at] = (raw.data()[at] - mean[c]) / stddev[c];
    }
  }
  const int64_t maps = draw_attention(model, model_name, raw, x, labels, test_set.class_names, path);
  std::printf("wrote %s: %s, each followed by %s\n", path.c_str(), count_of(count, "test image").c_str(),
              count_of(maps, "attention map").c_str());
}

}  // namespace glimpse
