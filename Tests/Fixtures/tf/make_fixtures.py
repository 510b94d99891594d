"""TensorFlow checkpoint fixtures for Tests/ZooFormatTests/TFCheckpoint*Tests.swift.

Run from this folder with TensorFlow 2.x (tensorflow-cpu) and numpy:
    TF_CPP_MIN_LOG_LEVEL=3 python make_fixtures.py
It writes, next to itself:
  v1/model.ckpt.*        a tf.compat.v1 graph-mode Saver checkpoint: the seed MLP
                         (hidden1, hidden2, softmax_linear) trained one step with
                         AdamOptimizer, so Adam slots, beta1_power, beta2_power and
                         global_step are saved too; plus float16, int8, bool and
                         string variables; and a `checkpoint` file in v1/.
  tf2/ckpt-1.*           a tf.train.Checkpoint of a tf.Module with an optimizer
                         (object-based keys, _CHECKPOINTABLE_OBJECT_GRAPH).
  sharded/ckpt-1.*       the same kind, split over several data shards by
                         CheckpointOptions(experimental_sharding_callback=MaxShardSizePolicy).
  partitioned/model.ckpt.*  variables partitioned in slices, by rows and by columns.
and prints the values the Swift tests hard-code: a few elements and the SHA-256 of
np.ascontiguousarray(a).tobytes() for each variable.
"""
import hashlib
import os
import shutil

import numpy as np
import tensorflow as tf

HERE = os.path.dirname(os.path.abspath(__file__))


def digest(array):
    array = np.asarray(array)
    return hashlib.sha256(np.ascontiguousarray(array, array.dtype.newbyteorder("<")).tobytes()).hexdigest()


def fresh(name):
    path = os.path.join(HERE, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def dump(prefix):
    print(f"== {os.path.relpath(prefix, HERE)}")
    for name, shape in tf.train.list_variables(prefix):
        value = tf.train.load_variable(prefix, name)
        if isinstance(value, bytes) or (isinstance(value, np.ndarray) and value.dtype == object):
            print(f"  {name}: string {shape}")
            continue
        value = np.asarray(value)
        flat = value.reshape(-1)[:3].tolist()
        print(f"  {name}: {value.dtype} {list(value.shape)} first {flat} sha256 {digest(value)}")


def v1_saver():
    path = fresh("v1")
    tf.compat.v1.reset_default_graph()
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.set_random_seed(42)
        x = tf.compat.v1.placeholder(tf.float32, [None, 8], name="x")
        y = tf.compat.v1.placeholder(tf.int64, [None], name="y")
        h = x
        for scope, (n_in, n_out) in [("hidden1", (8, 6)), ("hidden2", (6, 4)), ("softmax_linear", (4, 3))]:
            with tf.compat.v1.variable_scope(scope):
                kernel = tf.compat.v1.get_variable("kernel", [n_in, n_out], initializer=tf.compat.v1.glorot_uniform_initializer(seed=1))
                bias = tf.compat.v1.get_variable("bias", [n_out], initializer=tf.compat.v1.constant_initializer(0.1))
            h = tf.matmul(h, kernel) + bias
            if scope != "softmax_linear":
                h = tf.nn.relu(h)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=h))
        global_step = tf.compat.v1.train.get_or_create_global_step()
        train = tf.compat.v1.train.AdamOptimizer(0.01).minimize(loss, global_step=global_step)
        extras = [
            tf.compat.v1.get_variable("extras/half", initializer=np.arange(6, dtype=np.float16).reshape(2, 3) / 4, trainable=False),
            tf.compat.v1.get_variable("extras/int8", initializer=np.array([-128, -1, 0, 1, 127], np.int8), trainable=False),
            tf.compat.v1.get_variable("extras/flags", initializer=np.array([True, False, True]), trainable=False),
            tf.compat.v1.get_variable("extras/int64", initializer=np.array([[1, -2], [3, 1 << 40]], np.int64), trainable=False),
            tf.compat.v1.get_variable("extras/double", initializer=np.array([0.5, -1.25], np.float64), trainable=False),
            tf.compat.v1.get_variable("extras/scalar", initializer=np.float32(3.5), trainable=False),
            tf.compat.v1.get_variable("extras/name", initializer=tf.constant(b"seed"), dtype=tf.string, trainable=False),
        ]
        saver = tf.compat.v1.train.Saver(save_relative_paths=True)
        rng = np.random.default_rng(0)
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            session.run(train, {x: rng.standard_normal((5, 8)).astype(np.float32), y: rng.integers(0, 3, 5)})
            saver.save(session, os.path.join(path, "model.ckpt"), write_meta_graph=False)
    dump(os.path.join(path, "model.ckpt"))


def tf2_checkpoint(name, widths, options=None):
    """A tf_keras (Keras 2) model and optimizer: object-based keys such as
    model/layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE and Adam slots
    under .OPTIMIZER_SLOT."""
    import tf_keras

    path = fresh(name)
    tf_keras.utils.set_random_seed(7)
    model = tf_keras.Sequential(
        [tf_keras.Input((widths[0],))]
        + [tf_keras.layers.Dense(n, activation="relu") for n in widths[1:-1]]
        + [tf_keras.layers.Dense(widths[-1])])
    optimizer = tf_keras.optimizers.Adam(0.01)
    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer)
    x = tf.constant(np.random.default_rng(1).standard_normal((3, widths[0])).astype(np.float32))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(x) ** 2)
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    prefix = checkpoint.save(os.path.join(path, "ckpt"), options=options)
    dump(prefix)
    return prefix


def sharded():
    policy = tf.train.experimental.MaxShardSizePolicy(max_shard_size=600)
    options = tf.train.CheckpointOptions(experimental_sharding_callback=policy)
    prefix = tf2_checkpoint("sharded", [8, 6, 4, 3], options)
    print("  shards:", sorted(f for f in os.listdir(os.path.dirname(prefix)) if ".data-" in f))


def partitioned():
    path = fresh("partitioned")
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.get_variable(
            "embedding", shape=[4, 3], initializer=tf.compat.v1.random_uniform_initializer(seed=3),
            partitioner=tf.compat.v1.fixed_size_partitioner(2))
        # Three uneven column slices (widths 2, 2, 1): strided copies when assembled.
        tf.compat.v1.get_variable(
            "columns", shape=[2, 5], initializer=tf.compat.v1.random_uniform_initializer(seed=4),
            partitioner=tf.compat.v1.fixed_size_partitioner(3, axis=1))
        saver = tf.compat.v1.train.Saver(save_relative_paths=True)
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            saver.save(session, os.path.join(path, "model.ckpt"), write_meta_graph=False)
    dump(os.path.join(path, "model.ckpt"))


if __name__ == "__main__":
    print("tensorflow", tf.__version__, "numpy", np.__version__)
    v1_saver()
    tf2_checkpoint("tf2", [8, 6, 3])
    sharded()
    partitioned()
