<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>@default</name>
    <message>
        <location filename="../mist_qgis/plugin.py" line="210"/>
        <source>MIST</source>
        <translation>MIST</translation>
    </message>
    <message>
        <location filename="../mist_qgis/plugin.py" line="51"/>
        <source>Create or upgrade store…</source>
        <translation>创建或升级数据库…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/plugin.py" line="52"/>
        <source>Store summary…</source>
        <translation>数据库概况…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/plugin.py" line="53"/>
        <source>Check dependencies</source>
        <translation>检查依赖项</translation>
    </message>
    <message>
        <location filename="../mist_qgis/plugin.py" line="248"/>
        <source>MIST dependencies</source>
        <translation>MIST 依赖项</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/store_algorithms.py" line="33"/>
        <source>Store</source>
        <translation>数据库</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/base.py" line="185"/>
        <source>No store given: choose a MIST GeoPackage store.</source>
        <translation>未指定数据库：请选择一个 MIST GeoPackage 数据库。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/store_algorithms.py" line="26"/>
        <source>Create or upgrade store</source>
        <translation>创建或升级数据库</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/store_algorithms.py" line="27"/>
        <source>Creates a MIST store (a GeoPackage that every MIST step reads and writes), or upgrades an existing one to the current schema. Existing data is kept.</source>
        <translation>创建 MIST 数据库（所有 MIST 步骤读写的 GeoPackage 文件），或将已有数据库升级到当前结构。已有数据会保留。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/store_algorithms.py" line="115"/>
        <source>GeoPackage (*.gpkg)</source>
        <translation>GeoPackage (*.gpkg)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/store_algorithms.py" line="38"/>
        <source>Schema version</source>
        <translation>结构版本</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/store_algorithms.py" line="52"/>
        <source>Store {path} is at schema version {version}</source>
        <translation>数据库 {path} 的结构版本为 {version}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/store_algorithms.py" line="58"/>
        <source>Store summary</source>
        <translation>数据库概况</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/store_algorithms.py" line="59"/>
        <source>Counts posts, photos, results and runs in a MIST store.</source>
        <translation>统计 MIST 数据库中的帖子、照片、结果和运行记录。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/store_algorithms.py" line="63"/>
        <source>Summary (JSON)</source>
        <translation>概况 (JSON)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/store_algorithms.py" line="64"/>
        <source>Posts</source>
        <translation>帖子</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/model_manager.py" line="40"/>
        <source>— (embeddings)</source>
        <translation>—（嵌入向量）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/plugin.py" line="219"/>
        <source>MIST models</source>
        <translation>MIST 模型</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/model_manager.py" line="78"/>
        <source>Import model pack (zip)…</source>
        <translation>导入模型包 (zip)…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/model_manager.py" line="79"/>
        <source>Import model pack (folder)…</source>
        <translation>导入模型包（文件夹）…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/model_manager.py" line="80"/>
        <source>Add model folder…</source>
        <translation>添加模型文件夹…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/model_manager.py" line="81"/>
        <source>Check provider</source>
        <translation>检查执行提供程序</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="187"/>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/model_manager.py" line="113"/>
        <source>Execution providers in this ONNX Runtime: {a}. New sessions start on: {p} (the CPU is always the fallback).</source>
        <translation>此 ONNX Runtime 中的执行提供程序：{a}。新会话使用：{p}（始终以 CPU 作为后备）。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/model_manager.py" line="117"/>
        <source>ONNX Runtime is not installed: models cannot run.</source>
        <translation>未安装 ONNX Runtime：无法运行模型。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/model_manager.py" line="120"/>
        <source>not loaded</source>
        <translation>未加载</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/model_manager.py" line="128"/>
        <source>Not usable:</source>
        <translation>不可用：</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_model.py" line="19"/>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/model_manager.py" line="193"/>
        <source>Replace it?</source>
        <translation>是否替换？</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/model_manager.py" line="197"/>
        <source>Model pack refused</source>
        <translation>模型包被拒绝</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/model_manager.py" line="199"/>
        <source>Imported: {models}</source>
        <translation>已导入：{models}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/model_manager.py" line="203"/>
        <source>Model pack</source>
        <translation>模型包</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/model_manager.py" line="203"/>
        <source>Model pack (*.zip)</source>
        <translation>模型包 (*.zip)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/model_manager.py" line="207"/>
        <source>Model pack folder</source>
        <translation>模型包文件夹</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/model_manager.py" line="210"/>
        <source>Folder with ONNX models</source>
        <translation>包含 ONNX 模型的文件夹</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/posts_dock.py" line="56"/>
        <source>MIST Posts</source>
        <translation>MIST 帖子</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/posts_dock.py" line="68"/>
        <source>Post collection files and photo folders to import</source>
        <translation>要导入的帖子采集文件和照片文件夹</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/posts_dock.py" line="71"/>
        <source>Add files…</source>
        <translation>添加文件…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/posts_dock.py" line="72"/>
        <source>Add photo folder…</source>
        <translation>添加照片文件夹…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/posts_dock.py" line="73"/>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/import_algorithm.py" line="83"/>
        <source>Format</source>
        <translation>格式</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/posts_dock.py" line="84"/>
        <source>optional, e.g. lat=Y_WGS84; lon=X_WGS84; text=content</source>
        <translation>可选，例如 lat=Y_WGS84; lon=X_WGS84; text=content</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/posts_dock.py" line="85"/>
        <source>Column mapping</source>
        <translation>列映射</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/posts_dock.py" line="115"/>
        <source>optional: folder the export&apos;s photo paths are relative to</source>
        <translation>可选：导出数据中照片路径所相对的文件夹</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/posts_dock.py" line="172"/>
        <source>Media root</source>
        <translation>媒体根目录</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/posts_dock.py" line="120"/>
        <source>Keep author names (otherwise pseudonymised)</source>
        <translation>保留作者名（否则进行假名化处理）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/posts_dock.py" line="126"/>
        <source>Import</source>
        <translation>导入</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/posts_dock.py" line="127"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/posts_dock.py" line="160"/>
        <source>Post collections</source>
        <translation>帖子采集文件</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/import_algorithm.py" line="80"/>
        <source>Folder of geotagged photos</source>
        <translation>带地理标记的照片文件夹</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/store_choice.py" line="61"/>
        <source>MIST store</source>
        <translation>MIST 数据库</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/posts_dock.py" line="207"/>
        <source>Add at least one file or photo folder.</source>
        <translation>请至少添加一个文件或照片文件夹。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/posts_dock.py" line="214"/>
        <source>Not found: {path}</source>
        <translation>未找到：{path}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/posts_dock.py" line="227"/>
        <source>Importing…</source>
        <translation>正在导入…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/prefetch.py" line="31"/>
        <source>The cached photo file is missing.</source>
        <translation>缓存的照片文件缺失。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/prefetch.py" line="35"/>
        <source>Not a readable image: {reason}</source>
        <translation>不是可读取的图像：{reason}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/prefetch.py" line="38"/>
        <source>The photo is damaged: its size cannot be read ({reason}).</source>
        <translation>照片已损坏：无法读取其尺寸（{reason}）。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/prefetch.py" line="41"/>
        <source>The image is too large to show ({w} × {h} pixels).</source>
        <translation>图像过大，无法显示（{w} × {h} 像素）。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/prefetch.py" line="46"/>
        <source>The photo is damaged and cannot be decoded: {reason}</source>
        <translation>照片已损坏，无法解码：{reason}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="79"/>
        <source>Recall</source>
        <translation>召回率</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="80"/>
        <source>Precision</source>
        <translation>精确率</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="81"/>
        <source>AP {ap:.2f} ({pos} flood / {neg} not)</source>
        <translation>AP {ap:.2f}（{pos} 张淹水 / {neg} 张未淹水）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="88"/>
        <source>called flood</source>
        <translation>判为淹水</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="88"/>
        <source>called not</source>
        <translation>判为未淹水</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="89"/>
        <source>verified flood</source>
        <translation>核验为淹水</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="89"/>
        <source>verified not</source>
        <translation>核验为未淹水</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="90"/>
        <source>At threshold {t:.2f}</source>
        <translation>阈值 {t:.2f} 时</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="111"/>
        <source>Verdicts</source>
        <translation>判定数</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="181"/>
        <source>Screening model against verified photos</source>
        <translation>筛查模型与已核验照片对比</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="251"/>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="194"/>
        <source>Threshold</source>
        <translation>阈值</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="202"/>
        <source>Verdicts over time</source>
        <translation>判定随时间变化</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="205"/>
        <source>per day</source>
        <translation>按天</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="206"/>
        <source>per hour</source>
        <translation>按小时</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="214"/>
        <source>Agreement between analysts</source>
        <translation>分析员间一致性</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_text_posts.py" line="41"/>
        <source>Post</source>
        <translation>帖子</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_model.py" line="21"/>
        <source>Photo</source>
        <translation>照片</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="227"/>
        <source>Analyst A</source>
        <translation>分析员 A</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="227"/>
        <source>Analyst B</source>
        <translation>分析员 B</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="318"/>
        <source>No store open.</source>
        <translation>未打开数据库。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="329"/>
        <source>{n} verified photos scored · precision {p} · recall {r} · F1 {f}</source>
        <translation>已评分的核验照片 {n} 张 · 精确率 {p} · 召回率 {r} · F1 {f}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="334"/>
        <source>Needs verified flood and not-flood photos scored by this model.</source>
        <translation>需要已由此模型评分、且已核验为淹水和未淹水的照片。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="338"/>
        <source>No screening results in this store yet.</source>
        <translation>此数据库中尚无筛查结果。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="343"/>
        <source>No verdicts yet.</source>
        <translation>尚无判定。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="377"/>
        <source>Agreement needs verdicts from two analysts.</source>
        <translation>计算一致性需要两位分析员的判定。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="381"/>
        <source>{n} photos judged by both; kappa undefined: {reason}</source>
        <translation>两人均已判定的照片 {n} 张；kappa 无定义：{reason}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="384"/>
        <source>{n} photos judged by both · agreement {o:.0%} · Cohen's kappa {k:.2f} · {c} conflicts</source>
        <translation>两人均已判定的照片 {n} 张 · 一致率 {o:.0%} · Cohen's kappa {k:.2f} · {c} 处冲突</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_filters.py" line="14"/>
        <source>Import order</source>
        <translation>导入顺序</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_filters.py" line="14"/>
        <source>Newest first</source>
        <translation>最新优先</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_filters.py" line="15"/>
        <source>Oldest first</source>
        <translation>最早优先</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_filters.py" line="15"/>
        <source>Score: high to low</source>
        <translation>得分：从高到低</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_filters.py" line="16"/>
        <source>Score: low to high</source>
        <translation>得分：从低到高</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_filters.py" line="16"/>
        <source>Most useful next</source>
        <translation>最有价值优先</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_filters.py" line="19"/>
        <source>All photos</source>
        <translation>所有照片</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_filters.py" line="19"/>
        <source>Not verified</source>
        <translation>未核验</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_model.py" line="26"/>
        <source>Flood</source>
        <translation>淹水</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_model.py" line="26"/>
        <source>Not flood</source>
        <translation>未淹水</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_model.py" line="26"/>
        <source>Unsure</source>
        <translation>不确定</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_filters.py" line="21"/>
        <source>Not judged by me</source>
        <translation>我未判定的</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="104"/>
        <source>MIST Verify</source>
        <translation>MIST 核验</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="153"/>
        <source>No store open</source>
        <translation>未打开数据库</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="153"/>
        <source>Open a MIST store to start verifying.</source>
        <translation>打开一个 MIST 数据库以开始核验。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="166"/>
        <source>Verify</source>
        <translation>核验</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="170"/>
        <source>Quality</source>
        <translation>质量</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="175"/>
        <source>No store</source>
        <translation>无数据库</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="178"/>
        <source>Store…</source>
        <translation>数据库…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="184"/>
        <source>your name</source>
        <translation>您的姓名</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="185"/>
        <source>Analyst name saved with every verdict</source>
        <translation>随每条判定一起保存的分析员姓名</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="191"/>
        <source>Analyst</source>
        <translation>分析员</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_filters.py" line="43"/>
        <source>search post text</source>
        <translation>搜索帖子文本</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_filters.py" line="47"/>
        <source>min</source>
        <translation>最小</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_filters.py" line="47"/>
        <source>max</source>
        <translation>最大</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_filters.py" line="53"/>
        <source>Hide duplicates</source>
        <translation>隐藏重复项</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_filters.py" line="55"/>
        <source>Map extent</source>
        <translation>地图范围</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_filters.py" line="56"/>
        <source>Map selection</source>
        <translation>地图选择</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_filters.py" line="57"/>
        <source>Time controller</source>
        <translation>时态控制器</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_filters.py" line="58"/>
        <source>Select on map</source>
        <translation>在地图上选中</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="311"/>
        <source>Advance after verdict</source>
        <translation>判定后自动跳到下一张</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="226"/>
        <source>Show all again</source>
        <translation>重新显示全部</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_model.py" line="21"/>
        <source>Score</source>
        <translation>得分</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="291"/>
        <source>Flood, water about {m:g} m deep</source>
        <translation>淹水，水深约 {m:g} m</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="298"/>
        <source>depth (D): 0.3, 30cm, knee… Enter</source>
        <translation>水深 (D)：0.3、30cm、knee… 按 Enter</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="301"/>
        <source>note for the next verdict</source>
        <translation>下一条判定的备注</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="302"/>
        <source>Undo (Ctrl+Z)</source>
        <translation>撤销 (Ctrl+Z)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/store_choice.py" line="67"/>
        <source>Open a MIST store</source>
        <translation>打开 MIST 数据库</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="402"/>
        <source>This store is open read-only: you can browse, but verdicts are disabled.</source>
        <translation>此数据库以只读方式打开：可以浏览，但无法作出判定。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_text_posts.py" line="254"/>
        <source>Cannot read the store: {error}</source>
        <translation>无法读取数据库：{error}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="502"/>
        <source>No photos</source>
        <translation>没有照片</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="502"/>
        <source>No photo matches the filters.</source>
        <translation>没有符合筛选条件的照片。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="525"/>
        <source>Counting…</source>
        <translation>正在计数…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="527"/>
        <source>{n} photos in the queue</source>
        <translation>队列中有 {n} 张照片</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="541"/>
        <source>The store changed in another session; the table is up to date.</source>
        <translation>数据库已在另一会话中更改；表格已同步更新。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="573"/>
        <source>This is the last photo in the queue.</source>
        <translation>这是队列中的最后一张照片。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="627"/>
        <source>A {kind} is not previewed here</source>
        <translation>此处不预览 {kind}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="627"/>
        <source>Open the source link.</source>
        <translation>请打开来源链接。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="629"/>
        <source>Photo not fetched yet</source>
        <translation>照片尚未获取</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="629"/>
        <source>Run the photo fetch step for this store.</source>
        <translation>请对此数据库运行照片获取步骤。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="631"/>
        <source>Photo could not be fetched</source>
        <translation>无法获取照片</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="631"/>
        <source>Photo skipped</source>
        <translation>照片已跳过</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="634"/>
        <source>Photo missing</source>
        <translation>照片缺失</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="634"/>
        <source>The store has no cached file for this photo.</source>
        <translation>数据库中没有此照片的缓存文件。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="638"/>
        <source>Photo refused</source>
        <translation>照片被拒绝</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="660"/>
        <source>Photo cannot be shown</source>
        <translation>无法显示照片</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_facts.py" line="33"/>
        <source>no time</source>
        <translation>无时间</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_facts.py" line="39"/>
        <source>Source: </source>
        <translation>来源：</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_facts.py" line="42"/>
        <source>location {lat:.5f}, {lon:.5f} ({source})</source>
        <translation>位置 {lat:.5f}, {lon:.5f}（{source}）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_facts.py" line="45"/>
        <source>not placed yet</source>
        <translation>尚未定位</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_facts.py" line="47"/>
        <source>screening score {s:.2f}</source>
        <translation>筛查得分 {s:.2f}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_facts.py" line="49"/>
        <source>geolocation confidence {c:.2f} (reference {ref})</source>
        <translation>地理定位置信度 {c:.2f}（参考影像 {ref}）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_facts.py" line="52"/>
        <source>near-duplicate of photo {fid}</source>
        <translation>与照片 {fid} 近似重复</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_facts.py" line="57"/>
        <source>&lt;b&gt;Verdict:&lt;/b&gt; {v} by {who} at {when}</source>
        <translation>&lt;b&gt;判定：&lt;/b&gt;{v}（{who}，{when}）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_facts.py" line="61"/>
        <source>Note: {note}</source>
        <translation>备注：{note}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="774"/>
        <source>This store is open read-only: verdicts are disabled.</source>
        <translation>此数据库以只读方式打开：无法作出判定。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="778"/>
        <source>Type your name in the Analyst field first.</source>
        <translation>请先在“分析员”框中输入您的姓名。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verdict_controller.py" line="93"/>
        <source>The verdict could not be saved: {error}</source>
        <translation>无法保存判定：{error}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="806"/>
        <source>Saved: {v} for {n} photo(s).</source>
        <translation>已保存：{n} 张照片判定为“{v}”。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="835"/>
        <source>Nothing to undo.</source>
        <translation>没有可撤销的操作。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verdict_controller.py" line="138"/>
        <source>Cannot undo: {error}</source>
        <translation>无法撤销：{error}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="863"/>
        <source>Undone: {n} verdict(s).</source>
        <translation>已撤销：{n} 条判定。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_facts.py" line="74"/>
        <source>unreadable</source>
        <translation>无法读取</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_text_posts.py" line="41"/>
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_text_posts.py" line="41"/>
        <source>Text</source>
        <translation>文本</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_model.py" line="22"/>
        <source>Geo conf.</source>
        <translation>定位置信度</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_model.py" line="22"/>
        <source>Verdict</source>
        <translation>判定</translation>
    </message>
    <message>
        <location filename="../mist_qgis/qgis_ops/layers.py" line="53"/>
        <source>MIST posts</source>
        <translation>MIST 帖子</translation>
    </message>
    <message>
        <location filename="../mist_qgis/qgis_ops/layers.py" line="55"/>
        <source>Cannot open the posts of store {path}</source>
        <translation>无法打开数据库 {path} 中的帖子</translation>
    </message>
    <message>
        <location filename="../mist_qgis/qgis_ops/layers.py" line="66"/>
        <source>Cannot load the posts style: {message}</source>
        <translation>无法加载帖子样式：{message}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/plugin.py" line="55"/>
        <source>Models…</source>
        <translation>模型…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/plugin.py" line="58"/>
        <source>Fetch photos…</source>
        <translation>获取照片…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/plugin.py" line="58"/>
        <source>Classify photos…</source>
        <translation>照片分类…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/plugin.py" line="58"/>
        <source>Train screening head…</source>
        <translation>训练筛查分类头…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/plugin.py" line="58"/>
        <source>Geolocate photos…</source>
        <translation>照片地理定位…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/plugin.py" line="58"/>
        <source>Post density…</source>
        <translation>帖子密度…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/plugin.py" line="58"/>
        <source>Semantic localization map…</source>
        <translation>语义定位图…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/plugin.py" line="58"/>
        <source>Inundation from verified depths…</source>
        <translation>根据核验水深推算淹没…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/plugin.py" line="58"/>
        <source>Export verified points…</source>
        <translation>导出已核验点…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/plugin.py" line="114"/>
        <source>Verify photos</source>
        <translation>核验照片</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/import_algorithm.py" line="60"/>
        <source>Import posts</source>
        <translation>导入帖子</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="33"/>
        <source>Geolocation</source>
        <translation>地理定位</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="88"/>
        <source>Import reference imagery</source>
        <translation>导入参考影像</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="90"/>
        <source>Adds ground-level reference photos with known position and heading to the store&apos;s &apos;references&apos; layer (drawn as heading arrows): a CSV with id, lon, lat, heading, path; a MIST-SMMD street-view folder (csv_files/success.csv and downloadPic/); a GeoJSON or GeoJSON-seq of points with an image path property; or a folder of geotagged photos (EXIF GPS and direction). Paths must stay inside the collection folder; bad rows are listed in the run&apos;s issue report.</source>
        <translation>将位置和朝向已知的地面参考照片添加到数据库的“references”图层（以朝向箭头显示）。支持：含 id、lon、lat、heading、path 列的 CSV；MIST-SMMD 街景文件夹（csv_files/success.csv 和 downloadPic/）；带图像路径属性的点状 GeoJSON 或 GeoJSON-seq；或带地理标记的照片文件夹（EXIF GPS 与方向）。路径必须位于影像集文件夹内；有问题的行会列在本次运行的问题报告中。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="100"/>
        <source>Collection file (CSV, success.csv, GeoJSON)</source>
        <translation>影像集文件（CSV、success.csv、GeoJSON）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="102"/>
        <source>or collection folder (street-view download, geotagged photos)</source>
        <translation>或影像集文件夹（街景下载、带地理标记的照片）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="106"/>
        <source>Collection name</source>
        <translation>影像集名称</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="107"/>
        <source>References imported</source>
        <translation>已导入的参考影像</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/verdict_algorithms.py" line="44"/>
        <source>Rows skipped</source>
        <translation>跳过的行</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/verdict_algorithms.py" line="45"/>
        <source>Result (JSON)</source>
        <translation>结果 (JSON)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="118"/>
        <source>Give a collection file or a collection folder.</source>
        <translation>请指定影像集文件或影像集文件夹。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="129"/>
        <source>{n} references imported into collection {c}, {s} rows skipped</source>
        <translation>已将 {n} 张参考影像导入影像集 {c}，跳过 {s} 行</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="131"/>
        <source>References</source>
        <translation>参考影像</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="141"/>
        <source>Geolocate photos against reference imagery</source>
        <translation>基于参考影像对照片进行地理定位</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="143"/>
        <source>Moves each post to where its photo was taken: references within the post&apos;s uncertainty radius are ranked by global-embedding similarity, the top k are matched (DISK + LightGlue by default, offline), the matches are verified geometrically (MAGSAC++), and the post moves to the best reference&apos;s coordinates when the calibrated confidence is high enough. &apos;Paper-faithful&apos; reproduces LSGL: every candidate is matched and the best location is chosen by the paper&apos;s score / error-indicator rate. An optional gazetteer layer (OSM roads, places) first places unlocated posts from toponyms in their text. Resumable; bad photos and references are listed with reasons in the run&apos;s issue report.</source>
        <translation>将每条帖子移动到其照片的拍摄位置：先按全局嵌入相似度对帖子不确定性半径内的参考影像排序，对前 k 张进行匹配（默认 DISK + LightGlue，离线运行），再对匹配结果进行几何验证（MAGSAC++）；当校准置信度足够高时，帖子移动到最佳参考影像的坐标。“忠实于论文”模式复现 LSGL：对每个候选都进行匹配，并按论文中的得分 / 误差指示率选出最佳位置。可选的地名库图层（OSM 道路、地点）会先根据帖子文本中的地名为无位置的帖子定位。可断点续跑；有问题的照片和参考影像会连同原因列在本次运行的问题报告中。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="306"/>
        <source>Matcher</source>
        <translation>匹配器</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="156"/>
        <source>Paper-faithful LSGL selection</source>
        <translation>忠实于论文的 LSGL 选择</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="158"/>
        <source>References matched per photo (top k)</source>
        <translation>每张照片匹配的参考影像数（前 k 张）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="160"/>
        <source>Search radius (m); 0 = each post&apos;s own uncertainty (default 500 m)</source>
        <translation>搜索半径 (m)；0 = 使用每条帖子自身的不确定性（默认 500 m）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="163"/>
        <source>Minimum confidence to move a post</source>
        <translation>移动帖子所需的最低置信度</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="169"/>
        <source>Also mask truck, van, boat, bicycle, minibike</source>
        <translation>同时遮蔽卡车、厢式货车、船、自行车、小型摩托车</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="171"/>
        <source>LoFTR outdoor weights (for loftr)</source>
        <translation>LoFTR 室外权重（用于 loftr）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/live_algorithms.py" line="97"/>
        <source>Gazetteer name field</source>
        <translation>地名库名称字段</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="178"/>
        <source>Redo posts already geolocated</source>
        <translation>重新处理已地理定位的帖子</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="189"/>
        <source>Posts moved</source>
        <translation>已移动的帖子</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="223"/>
        <source>Choose the gazetteer&apos;s name field.</source>
        <translation>请选择地名库的名称字段。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="226"/>
        <source>Text: {p} posts placed, {u} without a usable place name</source>
        <translation>文本：已定位 {p} 条帖子，{u} 条没有可用的地名</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="241"/>
        <source>Photo geolocation (old -&gt; new)</source>
        <translation>照片地理定位（旧 -&gt; 新）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="248"/>
        <source>Evaluate geolocation against true locations</source>
        <translation>对照真实位置评估地理定位</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="250"/>
        <source>Geodesic error in metres of the posts&apos; locations against a layer of true locations (joined by post id): mean (the paper&apos;s MAE), median, RMSE and the share within 25/50/100/200/500 m, both for the current locations (&apos;after&apos;) and for the locations before image matching (&apos;before&apos;).</source>
        <translation>计算帖子位置相对于真实位置图层（按帖子 id 连接）的测地误差（单位：米）：均值（即论文中的 MAE）、中位数、RMSE 以及误差在 25/50/100/200/500 m 以内的比例，分别针对当前位置（“after”）和图像匹配前的位置（“before”）。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="258"/>
        <source>True locations (points)</source>
        <translation>真实位置（点）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="260"/>
        <source>Post id field</source>
        <translation>帖子 id 字段</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="271"/>
        <source>The true-location layer cannot be read.</source>
        <translation>无法读取真实位置图层。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="274"/>
        <source>The true-location layer has no field {f}.</source>
        <translation>真实位置图层中没有字段 {f}。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/import_algorithm.py" line="78"/>
        <source>Post collection files</source>
        <translation>帖子采集文件</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/import_algorithm.py" line="82"/>
        <source>Store (created if missing)</source>
        <translation>数据库（不存在时自动创建）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/import_algorithm.py" line="84"/>
        <source>Media root (folder that photo paths in the export are relative to)</source>
        <translation>媒体根目录（导出数据中照片路径所相对的文件夹）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/import_algorithm.py" line="87"/>
        <source>Keep author names (otherwise pseudonymised per store)</source>
        <translation>保留作者名（否则按数据库进行假名化处理）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/import_algorithm.py" line="89"/>
        <source>Column mapping (field=column; ...)</source>
        <translation>列映射 (field=column; ...)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="99"/>
        <source>Run id</source>
        <translation>运行 ID</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/import_algorithm.py" line="99"/>
        <source>Posts layer</source>
        <translation>帖子图层</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/import_algorithm.py" line="113"/>
        <source>Choose at least one file or a folder of photos to import.</source>
        <translation>请至少选择一个要导入的文件或照片文件夹。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/import_algorithm.py" line="116"/>
        <source>Input does not exist: {path}</source>
        <translation>输入不存在：{path}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/import_algorithm.py" line="142"/>
        <source>Import cancelled; run it again to complete it.</source>
        <translation>导入已取消；再次运行即可完成导入。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/media_algorithms.py" line="53"/>
        <source>video frames</source>
        <translation>视频帧</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/media_algorithms.py" line="53"/>
        <source>photos</source>
        <translation>照片</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/media_algorithms.py" line="54"/>
        <source>{done}/{total} {stage} · {mb:.1f} MB · {rate:.1f} photos/s</source>
        <translation>{done}/{total} {stage} · {mb:.1f} MB · {rate:.1f} 张/秒</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/media_algorithms.py" line="60"/>
        <source>Fetch post photos and videos</source>
        <translation>获取帖子照片和视频</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/media_algorithms.py" line="62"/>
        <source>Downloads every pending photo and video of the store into its content-addressed cache (or, offline, finds them in a local folder by path, file name, post id or a mapping column), checks each one by decoding it, makes thumbnails, extracts stable video frames, links near-duplicates and places posts without coordinates at their photo&apos;s EXIF GPS position. Only public http(s) hosts are contacted unless private hosts are allowed. Resumable: cached media is never fetched again; a cancelled run continues.</source>
        <translation>将数据库中所有待获取的照片和视频下载到按内容寻址的缓存中（离线时则按路径、文件名、帖子 id 或映射列在本地文件夹中查找），逐一解码检查，生成缩略图，提取稳定的视频帧，关联近似重复项，并将无坐标的帖子放置到其照片的 EXIF GPS 位置。除非允许私有主机，否则只访问公共 http(s) 主机。可断点续跑：已缓存的媒体不会重复获取；已取消的运行会接着进行。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/media_algorithms.py" line="75"/>
        <source>Offline: never use the network, take media from the folder</source>
        <translation>离线：不使用网络，从文件夹读取媒体</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/media_algorithms.py" line="77"/>
        <source>Local media folder (export folder or drive)</source>
        <translation>本地媒体文件夹（导出文件夹或驱动器）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/media_algorithms.py" line="80"/>
        <source>Column naming each post&apos;s file (offline lookup)</source>
        <translation>给出每条帖子文件名的列（离线查找）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/media_algorithms.py" line="82"/>
        <source>Allow private and loopback hosts (intranet photo servers)</source>
        <translation>允许私有和回环主机（内网照片服务器）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/media_algorithms.py" line="90"/>
        <source>Parallel downloads</source>
        <translation>并行下载数</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/media_algorithms.py" line="93"/>
        <source>Retry media that failed or were skipped before</source>
        <translation>重试之前失败或被跳过的媒体</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/media_algorithms.py" line="95"/>
        <source>Place unlocated posts at their photo&apos;s EXIF position</source>
        <translation>将无位置的帖子放置到其照片的 EXIF 位置</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/media_algorithms.py" line="98"/>
        <source>Media fetched</source>
        <translation>已获取的媒体</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/media_algorithms.py" line="98"/>
        <source>Media failed</source>
        <translation>获取失败的媒体</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/media_algorithms.py" line="98"/>
        <source>Media skipped</source>
        <translation>跳过的媒体</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/media_algorithms.py" line="98"/>
        <source>Media still pending</source>
        <translation>仍待获取的媒体</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/media_algorithms.py" line="98"/>
        <source>Near-duplicates</source>
        <translation>近似重复项</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="29"/>
        <source>Screening</source>
        <translation>筛查</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="46"/>
        <source>No model given: a model id, id@version or .onnx file.</source>
        <translation>未指定模型：请给出模型 id、id@version 或 .onnx 文件。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="81"/>
        <source>Classify photos</source>
        <translation>照片分类</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="93"/>
        <source>Batch size</source>
        <translation>批大小</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="95"/>
        <source>Labels kept per photo</source>
        <translation>每张照片保留的标签数</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="99"/>
        <source>Photos classified</source>
        <translation>已分类的照片</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="99"/>
        <source>Photos skipped</source>
        <translation>跳过的照片</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="122"/>
        <source>{model}: {notice}</source>
        <translation>{model}：{notice}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="123"/>
        <source>{n} photos classified, {s} skipped</source>
        <translation>已分类 {n} 张照片，跳过 {s} 张</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="130"/>
        <source>Train screening head from verifications</source>
        <translation>根据核验结果训练筛查分类头</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="143"/>
        <source>Image embedding model</source>
        <translation>图像嵌入模型</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="145"/>
        <source>Features</source>
        <translation>特征</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="146"/>
        <source>Labels</source>
        <translation>标签</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="147"/>
        <source>Water depth class limits (m)</source>
        <translation>水深等级界限 (m)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="149"/>
        <source>Head</source>
        <translation>分类头</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="150"/>
        <source>Model id</source>
        <translation>模型 id</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="221"/>
        <source>Head model</source>
        <translation>分类头模型</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="153"/>
        <source>ONNX model (*.onnx)</source>
        <translation>ONNX 模型 (*.onnx)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="155"/>
        <source>Cross-validated metrics (JSON)</source>
        <translation>交叉验证指标 (JSON)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="156"/>
        <source>Head model id@version</source>
        <translation>分类头模型 id@version</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="176"/>
        <source>Depth class limits must be numbers such as 0.3,1.0</source>
        <translation>水深等级界限必须是数字，例如 0.3,1.0</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="184"/>
        <source>Embedding photos with {m}</source>
        <translation>正在用 {m} 计算照片嵌入向量</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="187"/>
        <source>Embedding post texts</source>
        <translation>正在计算帖子文本嵌入向量</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="190"/>
        <source>Cancelled before training</source>
        <translation>已在训练前取消</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="213"/>
        <source>Suggest photos to verify next</source>
        <translation>推荐接下来要核验的照片</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="214"/>
        <source>Lists unverified photos the head is least sure about, mixed with a random sample so that precision estimated from verified photos stays honest.</source>
        <translation>列出分类头最不确定的未核验照片，并混入随机样本，使根据已核验照片估计的精确率保持无偏。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="222"/>
        <source>Number of photos</source>
        <translation>照片数量</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="224"/>
        <source>Share of random photos</source>
        <translation>随机照片比例</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/text_algorithms.py" line="175"/>
        <source>Suggestions (JSON)</source>
        <translation>推荐结果 (JSON)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="244"/>
        <source>Classify image files</source>
        <translation>图像文件分类</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="252"/>
        <source>Image files (one per line)</source>
        <translation>图像文件（每行一个）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="255"/>
        <source>Labels per image</source>
        <translation>每张图像的标签数</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="257"/>
        <source>Predictions (JSON)</source>
        <translation>预测结果 (JSON)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="266"/>
        <source>No image files given</source>
        <translation>未指定图像文件</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="276"/>
        <source>List models</source>
        <translation>列出模型</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="277"/>
        <source>Lists the models MIST can use (user folders, the profile&apos;s model folder, the build folder) with task, labels, size and licence, files that are not usable models, and the execution providers available.</source>
        <translation>列出 MIST 可使用的模型（用户文件夹、用户配置文件中的模型文件夹、构建文件夹）及其任务、标签、大小和许可证，列出不可用作模型的文件，以及可用的执行提供程序。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="283"/>
        <source>Models (JSON)</source>
        <translation>模型 (JSON)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="37"/>
        <source>Rasters</source>
        <translation>栅格</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="61"/>
        <source>Post density</source>
        <translation>帖子密度</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="63"/>
        <source>Kernel density of posts from a MIST store with QGIS&apos;s own heatmap algorithm: all located posts, posts predicted as flood (weighted by their score) or verified flood posts. Radius and pixel size are metres on the ground whatever the CRS (the posts are projected to their UTM zone). Optional time slices per hour or day give one raster per slice with a temporal range, so the temporal controller plays the flood&apos;s growth; all slices share one grid and colour range.</source>
        <translation>使用 QGIS 自带的热力图算法计算 MIST 数据库中帖子的核密度：所有已定位的帖子、预测为淹水的帖子（按得分加权）或核验为淹水的帖子。无论坐标参考系如何，半径和像素大小均以地面米数计（帖子会投影到其所在的 UTM 带）。可选按小时或按天划分时间切片，每个切片生成一个带时间范围的栅格，以便时态控制器播放洪水的发展过程；所有切片共用同一格网和色彩范围。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="75"/>
        <source>Flood label of the classifier</source>
        <translation>分类器的淹水标签</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="77"/>
        <source>Radius (m)</source>
        <translation>半径 (m)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="79"/>
        <source>Pixel size (m)</source>
        <translation>像素大小 (m)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="81"/>
        <source>Time slices</source>
        <translation>时间切片</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="82"/>
        <source>Cumulative slices (every post up to the slice&apos;s end)</source>
        <translation>累积切片（包含截至切片结束时的所有帖子）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="389"/>
        <source>Output folder</source>
        <translation>输出文件夹</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="86"/>
        <source>Posts used</source>
        <translation>使用的帖子数</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="112"/>
        <source>{n} density rasters in {folder}</source>
        <translation>{folder} 中共 {n} 个密度栅格</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="118"/>
        <source>Semantic localization map (SeLo)</source>
        <translation>语义定位图 (SeLo)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="120"/>
        <source>Scores multi-scale windows of a georeferenced image against a query and writes a 0-255 probability GeoTIFF with the image&apos;s CRS and geotransform (SeLo v1: windows 256/512/768 on aligned and half-shifted grids, median blur 251; v2: 512 tiles, the top 15 % refined with anchor boxes, Gaussian blur). Queries: a caption (CLIP-style ONNX image + text encoders), exemplar photos, the store&apos;s verified flood photos, boxes drawn on the image, or a patch head trained on labelled boxes. Window embeddings are cached per image, so a second query costs one similarity pass.</source>
        <translation>针对查询对已地理配准影像的多尺度窗口打分，并写出 0-255 的概率 GeoTIFF，沿用影像的坐标参考系和地理变换（SeLo v1：在对齐及错开半格的格网上使用 256/512/768 窗口，中值模糊 251；v2：512 图块，对得分前 15 % 用锚框细化，高斯模糊）。查询可以是：文字描述（CLIP 式 ONNX 图像 + 文本编码器）、示例照片、数据库中核验为淹水的照片、在影像上绘制的框，或在带标签的框上训练的图块分类头。窗口嵌入向量按影像缓存，因此再次查询只需一次相似度计算。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="131"/>
        <source>Image</source>
        <translation>影像</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="132"/>
        <source>Image encoder (ONNX)</source>
        <translation>图像编码器 (ONNX)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="139"/>
        <source>Exemplar photos</source>
        <translation>示例照片</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="136"/>
        <source>Text query</source>
        <translation>文本查询</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="137"/>
        <source>Text encoder (ONNX)</source>
        <translation>文本编码器 (ONNX)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="142"/>
        <source>Boxes</source>
        <translation>框</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="144"/>
        <source>Box label field (1/0, flood/not_flood)</source>
        <translation>框标签字段（1/0，flood/not_flood）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="147"/>
        <source>Version</source>
        <translation>版本</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="148"/>
        <source>Window sizes (v1)</source>
        <translation>窗口大小 (v1)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="149"/>
        <source>Bands (e.g. 1,2,3)</source>
        <translation>波段（例如 1,2,3）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="150"/>
        <source>Embedding cache folder</source>
        <translation>嵌入向量缓存文件夹</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="152"/>
        <source>Style as a 30 % overlay on the image</source>
        <translation>以 30 % 不透明度叠加显示在影像上</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="154"/>
        <source>Semantic localization map</source>
        <translation>语义定位图</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="162"/>
        <source>{what} must be integers separated by commas</source>
        <translation>{what}必须是以逗号分隔的整数</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="169"/>
        <source>Draw or choose a polygon layer of boxes for this query.</source>
        <translation>请为此查询绘制或选择一个由框组成的多边形图层。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="172"/>
        <source>A patch head needs the label field of the boxes.</source>
        <translation>图块分类头需要框的标签字段。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="179"/>
        <source>GDAL cannot read {src}</source>
        <translation>GDAL 无法读取 {src}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="187"/>
        <source>Box {fid} lies outside the image.</source>
        <translation>框 {fid} 位于影像范围之外。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="192"/>
        <source>The box layer is empty.</source>
        <translation>框图层为空。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="213"/>
        <source>Choose an image.</source>
        <translation>请选择影像。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="218"/>
        <source>Window sizes</source>
        <translation>窗口大小</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="219"/>
        <source>Bands</source>
        <translation>波段</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="227"/>
        <source>A text query needs the text encoder of the same model.</source>
        <translation>文本查询需要同一模型的文本编码器。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="238"/>
        <source>No exemplar photo: pick photos or verify flood photos first.</source>
        <translation>没有示例照片：请先选择照片或核验淹水照片。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="256"/>
        <source>{n} windows, {c} from the cache</source>
        <translation>{n} 个窗口，其中 {c} 个来自缓存</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="264"/>
        <source>Evaluate semantic localization (SLM metrics)</source>
        <translation>评估语义定位（SLM 指标）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="266"/>
        <source>Rsu, Ras, Rda and Rmi (Yuan et al. 2022) of a probability map against annotated polygons, from a polygon layer in map or pixel coordinates; or of a folder of probmap_&lt;index&gt; files against the SeLo test set&apos;s anno.json (the dataset means).</source>
        <translation>计算概率图相对于标注多边形（来自地图坐标或像素坐标的多边形图层）的 Rsu、Ras、Rda 和 Rmi（Yuan et al. 2022）；或计算 probmap_&lt;index&gt; 文件夹相对于 SeLo 测试集 anno.json 的这些指标（数据集均值）。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="273"/>
        <source>Probability map</source>
        <translation>概率图</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="274"/>
        <source>Annotated regions</source>
        <translation>标注区域</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="278"/>
        <source>SeLo anno.json</source>
        <translation>SeLo anno.json</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="280"/>
        <source>Folder of probmap_&lt;index&gt; files</source>
        <translation>probmap_&lt;index&gt; 文件所在文件夹</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="285"/>
        <source>Metrics (JSON)</source>
        <translation>指标 (JSON)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="311"/>
        <source>Give a probability map and its annotated regions, or an anno.json.</source>
        <translation>请指定概率图及其标注区域，或一个 anno.json。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="321"/>
        <source>Region {fid} has holes; SLM regions are simple polygons.</source>
        <translation>区域 {fid} 含有孔洞；SLM 区域应为简单多边形。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="337"/>
        <source>Give the folder of probmap_&lt;index&gt; files.</source>
        <translation>请指定 probmap_&lt;index&gt; 文件所在的文件夹。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="346"/>
        <source>No probmap_{i} file in {folder}</source>
        <translation>{folder} 中没有 probmap_{i} 文件</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="357"/>
        <source>Inundation depth and extent</source>
        <translation>淹没水深与淹没范围</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="371"/>
        <source>DEM</source>
        <translation>数字高程模型 (DEM)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="378"/>
        <source>Maximum distance from evidence (m)</source>
        <translation>距证据点的最大距离 (m)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="380"/>
        <source>Consistency tolerance (m)</source>
        <translation>一致性容差 (m)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="382"/>
        <source>Neighbouring posts within (m)</source>
        <translation>相邻帖子的距离范围 (m)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="387"/>
        <source>Keep depths above 15 m (with a warning)</source>
        <translation>保留超过 15 m 的水深（并给出警告）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="390"/>
        <source>Depth raster</source>
        <translation>水深栅格</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="391"/>
        <source>Extent polygons</source>
        <translation>淹没范围多边形</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="392"/>
        <source>Flooded area (m²)</source>
        <translation>淹没面积 (m²)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="405"/>
        <source>Choose a DEM.</source>
        <translation>请选择数字高程模型 (DEM)。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="432"/>
        <source>Water depth</source>
        <translation>水深</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="433"/>
        <source>Flood extent</source>
        <translation>淹没范围</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/verdict_algorithms.py" line="25"/>
        <source>Import verifications (CSV)</source>
        <translation>导入核验结果 (CSV)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/verify_algorithms.py" line="28"/>
        <source>Verification</source>
        <translation>核验</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/verdict_algorithms.py" line="27"/>
        <source>Adds analysts&apos; verdicts from a CSV table (post_id, verdict, water_depth_m, analyst, note; optional platform) to the store, as if they had been given in the verification dock on the whole post: a colleague&apos;s spreadsheet, an earlier campaign or example verifications to train a screening head. Rows naming unknown posts, unknown verdicts or impossible depths are reported and skipped; rows equal to the analyst&apos;s latest verdict are not written twice. Depths are metres (&apos;0.5&apos;, &apos;50 cm&apos;) or a depth class (ankle, knee, waist, above).</source>
        <translation>将 CSV 表（post_id、verdict、water_depth_m、analyst、note；可选 platform）中分析员的判定添加到数据库，效果等同于在核验面板中对整条帖子作出判定。可用于同事的电子表格、以往的任务，或用于训练筛查分类头的示例核验。引用未知帖子、未知判定或不可能水深的行会被报告并跳过；与该分析员最新判定相同的行不会重复写入。水深以米为单位（“0.5”、“50 cm”）或为水深等级（ankle 脚踝、knee 膝盖、waist 腰部、above 腰部以上）。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/verdict_algorithms.py" line="38"/>
        <source>Verdicts table (CSV)</source>
        <translation>判定表 (CSV)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/verdict_algorithms.py" line="39"/>
        <source>Analyst for rows without one</source>
        <translation>未填写分析员的行所用的分析员</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/verdict_algorithms.py" line="41"/>
        <source>Platform of the post ids (when ids repeat across platforms)</source>
        <translation>帖子 id 所属平台（不同平台的 id 重复时）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/verdict_algorithms.py" line="43"/>
        <source>Verdicts written</source>
        <translation>已写入的判定</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/verdict_algorithms.py" line="55"/>
        <source>Choose the CSV file with the verdicts.</source>
        <translation>请选择包含判定的 CSV 文件。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/verdict_algorithms.py" line="64"/>
        <source>line {line}: {reason}</source>
        <translation>第 {line} 行：{reason}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/verdict_algorithms.py" line="65"/>
        <source>{w} verdicts written, {u} unchanged, {s} rows skipped</source>
        <translation>已写入 {w} 条判定，{u} 条未变，跳过 {s} 行</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/verify_algorithms.py" line="27"/>
        <source>Export verified points</source>
        <translation>导出已核验点</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/verify_algorithms.py" line="29"/>
        <source>Writes the posts analysts verified (flood by default) as points with water depth, verdict, analyst and time to a GeoPackage, GeoJSON or CSV file. Posts that are not placed yet are counted, not exported. Optionally also writes a training-set folder: the verified photos copied by label (checked against their sha256) with a manifest.csv, for retraining a screening model; photos analysts disagree on are left out unless asked for.</source>
        <translation>将分析员核验过的帖子（默认为淹水）以点的形式写入 GeoPackage、GeoJSON 或 CSV 文件，附带水深、判定、分析员和时间。尚未定位的帖子只计数，不导出。还可选择写出训练集文件夹：按标签复制已核验的照片（经 sha256 校验）并附 manifest.csv，用于重新训练筛查模型；除非特别要求，分析员意见不一致的照片不会包含在内。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/verify_algorithms.py" line="86"/>
        <source>Verified points</source>
        <translation>已核验点</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/verify_algorithms.py" line="39"/>
        <source>GeoPackage (*.gpkg);;GeoJSON (*.geojson);;CSV (*.csv)</source>
        <translation>GeoPackage (*.gpkg);;GeoJSON (*.geojson);;CSV (*.csv)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/verify_algorithms.py" line="42"/>
        <source>Verdicts to export</source>
        <translation>要导出的判定</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/verify_algorithms.py" line="43"/>
        <source>Include the post text</source>
        <translation>包含帖子文本</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/verify_algorithms.py" line="45"/>
        <source>Training-set folder</source>
        <translation>训练集文件夹</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/verify_algorithms.py" line="47"/>
        <source>Training set: include unsure photos</source>
        <translation>训练集：包含判定为“不确定”的照片</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/verify_algorithms.py" line="49"/>
        <source>Training set: keep photos analysts disagree on</source>
        <translation>训练集：保留分析员意见不一致的照片</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/verify_algorithms.py" line="51"/>
        <source>Points written</source>
        <translation>已写入的点</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/verify_algorithms.py" line="52"/>
        <source>Verified posts without a location</source>
        <translation>无位置的已核验帖子</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/verify_algorithms.py" line="53"/>
        <source>Training set (JSON)</source>
        <translation>训练集 (JSON)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/verify_algorithms.py" line="67"/>
        <source>{n} verified points written to {path}</source>
        <translation>已将 {n} 个已核验点写入 {path}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/verify_algorithms.py" line="69"/>
        <source>{n} verified posts have no location yet and are not in the file</source>
        <translation>{n} 条已核验帖子尚无位置，未写入文件</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/verify_algorithms.py" line="80"/>
        <source>photo {fid} left out: {reason}</source>
        <translation>照片 {fid} 未纳入：{reason}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="245"/>
        <source>Top labels and scores of an image model for a few image files (a quick check). An image+text model reads the given text with every image (no text: the empty text).</source>
        <translation>图像模型对若干图像文件给出的前几个标签及得分（快速检查）。图像+文本模型会将给定文本与每张图像一起读取（未给文本时使用空文本）。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="253"/>
        <source>Post text for image+text models</source>
        <translation>图像+文本模型使用的帖子文本</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/match_pane.py" line="36"/>
        <source>The photo that located this post is missing</source>
        <translation>用于定位该帖子的照片缺失</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/match_pane.py" line="37"/>
        <source>The photo that located this post cannot be matched</source>
        <translation>用于定位该帖子的照片无法匹配</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/match_pane.py" line="38"/>
        <source>The reference image is missing</source>
        <translation>参考影像缺失</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/match_pane.py" line="39"/>
        <source>The reference image cannot be matched</source>
        <translation>参考影像无法匹配</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/match_pane.py" line="40"/>
        <source>No matcher can run here</source>
        <translation>此处无法运行任何匹配器</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/match_pane.py" line="131"/>
        <source>Drawing the match…</source>
        <translation>正在绘制匹配…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/match_pane.py" line="131"/>
        <source>Matching photo {media} with reference {ref} ({matcher}). This can take a few seconds; you can keep verifying.</source>
        <translation>正在将照片 {media} 与参考影像 {ref} 匹配（{matcher}）。这可能需要几秒钟；您可以继续核验。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/match_pane.py" line="150"/>
        <source>The PNG was written but cannot be read: {path}</source>
        <translation>PNG 已写入但无法读取：{path}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/match_pane.py" line="151"/>
        <source>The match view could not be drawn</source>
        <translation>无法绘制匹配视图</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/match_pane.py" line="165"/>
        <source>Post {post}: photo {media} ↔ reference {ref}, geolocated with {matcher}</source>
        <translation>帖子 {post}：照片 {media} ↔ 参考影像 {ref}，使用 {matcher} 进行地理定位</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/text_categories_panel.py" line="90"/>
        <source>, confidence {c:.2f}</source>
        <translation>，置信度 {c:.2f}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/match_pane.py" line="173"/>
        <source>Drawn with {used}: the geolocation&apos;s matcher {requested} cannot be created here ({why}).</source>
        <translation>使用 {used} 绘制：地理定位所用的匹配器 {requested} 在此处无法创建（{why}）。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/match_pane.py" line="176"/>
        <source>Drawn with {used}, the matcher of the geolocation.</source>
        <translation>使用地理定位所用的匹配器 {used} 绘制。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/match_pane.py" line="178"/>
        <source>{n} matches, {k} inliers (green); other matches red.</source>
        <translation>{n} 个匹配，{k} 个内点（绿色）；其他匹配为红色。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="260"/>
        <source>Match (M)</source>
        <translation>匹配 (M)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="668"/>
        <source>No photo selected.</source>
        <translation>未选择照片。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="676"/>
        <source>No match view: this post has not been geolocated by image matching.</source>
        <translation>无匹配视图：该帖子未通过影像匹配进行地理定位。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="678"/>
        <source>No match view: image matching did not place this post ({status}: {reason}).</source>
        <translation>无匹配视图：影像匹配未能定位该帖子（{status}：{reason}）。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="678"/>
        <source>no reason recorded</source>
        <translation>未记录原因</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="687"/>
        <source>No match view</source>
        <translation>无匹配视图</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="690"/>
        <source>The photo beside reference {ref}, match lines drawn (M)</source>
        <translation>照片与参考影像 {ref} 并排显示，并绘制匹配连线 (M)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/model_manager.py" line="31"/>
        <source>Task</source>
        <translation>任务</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/model_manager.py" line="31"/>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/model_manager.py" line="31"/>
        <source>Origin</source>
        <translation>来源</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/model_manager.py" line="31"/>
        <source>Provider</source>
        <translation>执行提供程序</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/model_manager.py" line="31"/>
        <source>Licence</source>
        <translation>许可证</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/model_manager.py" line="31"/>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_model.py" line="19"/>
        <source>pending</source>
        <translation>待处理</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_model.py" line="19"/>
        <source>skipped</source>
        <translation>已跳过</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_model.py" line="19"/>
        <source>ankle</source>
        <translation>脚踝</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_model.py" line="19"/>
        <source>knee</source>
        <translation>膝盖</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_model.py" line="19"/>
        <source>waist</source>
        <translation>腰部</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_model.py" line="19"/>
        <source>above</source>
        <translation>腰部以上</translation>
    </message>
    <message>
        <location filename="../mist_qgis/post_formats.py" line="10"/>
        <source>Detect from the content</source>
        <translation>根据内容自动识别</translation>
    </message>
    <message>
        <location filename="../mist_qgis/post_formats.py" line="11"/>
        <source>Twitter/X API v1.1 tweets</source>
        <translation>Twitter/X API v1.1 推文</translation>
    </message>
    <message>
        <location filename="../mist_qgis/post_formats.py" line="12"/>
        <source>Twitter/X API v2 responses</source>
        <translation>Twitter/X API v2 响应</translation>
    </message>
    <message>
        <location filename="../mist_qgis/post_formats.py" line="13"/>
        <source>Weibo export or MIST-SMMD table</source>
        <translation>微博导出表或 MIST-SMMD 表</translation>
    </message>
    <message>
        <location filename="../mist_qgis/post_formats.py" line="14"/>
        <source>CrisisMMD annotation table</source>
        <translation>CrisisMMD 标注表</translation>
    </message>
    <message>
        <location filename="../mist_qgis/post_formats.py" line="15"/>
        <source>Table (CSV, TSV, Excel) with a column mapping</source>
        <translation>带列映射的表格（CSV、TSV、Excel）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/post_formats.py" line="16"/>
        <source>GeoJSON or GeoJSON sequence</source>
        <translation>GeoJSON 或 GeoJSON 序列</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/model_manager.py" line="181"/>
        <source>Importing {name}…</source>
        <translation>正在导入 {name}…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/model_pack_task.py" line="20"/>
        <source>MIST: import model pack {name}</source>
        <translation>MIST：导入模型包 {name}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/store_algorithms.py" line="78"/>
        <source>Push a field store into a team store</source>
        <translation>将外业存储推送到团队存储</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/store_algorithms.py" line="79"/>
        <source>Adds the posts, fetched photos and verdicts of a field GeoPackage (a laptop&apos;s, or an earlier event) to a team store. Posts merge by platform and post id, photos by content, verdicts keep their analyst and time; pushing again adds nothing twice.</source>
        <translation>将外业 GeoPackage（笔记本电脑上的，或早先事件的）中的帖子、已获取的照片和核查结论添加到团队存储。帖子按平台和帖子 ID 合并，照片按内容合并，核查结论保留其分析员和时间；再次推送不会重复添加。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/store_algorithms.py" line="115"/>
        <source>Field store</source>
        <translation>外业存储</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/text_algorithms.py" line="70"/>
        <source>Counts (JSON)</source>
        <translation>计数（JSON）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/store_algorithms.py" line="106"/>
        <source>Check out part of a team store</source>
        <translation>检出团队存储的一部分</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/store_algorithms.py" line="107"/>
        <source>Copies the posts of a team store inside an extent and a time window, with their photos and verdicts, into a new GeoPackage for a laptop that goes offline. Push it back to merge the verdicts made on it.</source>
        <translation>将团队存储中某一范围和时间窗口内的帖子及其照片和核查结论复制到新的 GeoPackage，供离线使用的笔记本电脑使用。之后推送回来即可合并在其上做出的核查结论。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/store_algorithms.py" line="116"/>
        <source>Extent</source>
        <translation>范围</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/store_algorithms.py" line="117"/>
        <source>Posted since (ISO time, UTC)</source>
        <translation>发布时间不早于（ISO 时间，UTC）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/store_algorithms.py" line="118"/>
        <source>Posted before (ISO time, UTC)</source>
        <translation>发布时间早于（ISO 时间，UTC）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/store_algorithms.py" line="142"/>
        <source>Posts added</source>
        <translation>新增帖子</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/store_algorithms.py" line="142"/>
        <source>Photos added</source>
        <translation>新增照片</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/store_algorithms.py" line="142"/>
        <source>Verdicts added</source>
        <translation>新增核查结论</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/field_algorithms.py" line="32"/>
        <source>Field package for QField / Mergin Maps</source>
        <translation>QField / Mergin Maps 外业数据包</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/field_algorithms.py" line="113"/>
        <source>Field</source>
        <translation>外业</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/field_algorithms.py" line="34"/>
        <source>Writes a folder, or a .zip, that QField and Mergin Maps open as it is: a QGIS project with relative paths, a GeoPackage with the verified flood points, the flood extent and depth contours of the latest inundation run, the alerts and an empty layer for the team&apos;s observations (a phone form: verdict, depth class and metres, note, photo; position and time from the device), the depth raster, the posts&apos; photos as small JPEGs and the styles. Choose an area and a time window; a size limit keeps the package light, and what was left out is listed with the reason (also in mist_field_manifest.json).</source>
        <translation>写出一个文件夹或 .zip，QField 和 Mergin Maps 可直接打开：使用相对路径的 QGIS 工程；一个 GeoPackage，包含已核验的淹水点、最近一次淹没分析的淹没范围和水深等值线、预警，以及供外业团队填写观测的空图层（手机表单：判定、水深等级与米数、备注、照片；位置和时间取自设备）；水深栅格；帖子照片的小尺寸 JPEG；以及样式。可选择关注区域和时间窗口；大小上限使数据包保持轻量，未纳入的内容及原因会列出（也写入 mist_field_manifest.json）。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/field_algorithms.py" line="50"/>
        <source>Package folder or .zip</source>
        <translation>数据包文件夹或 .zip</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/field_algorithms.py" line="50"/>
        <source>Zip (*.zip);;Folder (*)</source>
        <translation>Zip (*.zip);;文件夹 (*)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/field_algorithms.py" line="52"/>
        <source>Area of interest</source>
        <translation>关注区域</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/field_algorithms.py" line="53"/>
        <source>Posts from</source>
        <translation>帖子起始时间</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/field_algorithms.py" line="54"/>
        <source>Posts until</source>
        <translation>帖子截止时间</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/field_algorithms.py" line="55"/>
        <source>Size limit (MB)</source>
        <translation>大小上限 (MB)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/field_algorithms.py" line="58"/>
        <source>QGIS project</source>
        <translation>QGIS 工程</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/field_algorithms.py" line="60"/>
        <source>Photos</source>
        <translation>照片</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/field_algorithms.py" line="61"/>
        <source>Package contents (JSON)</source>
        <translation>数据包内容 (JSON)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/field_algorithms.py" line="94"/>
        <source>{points} verified points and {photos} photos in {path} ({mb:.1f} MB)</source>
        <translation>{path} 中有 {points} 个已核验点和 {photos} 张照片（{mb:.1f} MB）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/field_algorithms.py" line="97"/>
        <source>left out: {item}: {reason}</source>
        <translation>未纳入：{item}：{reason}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/field_algorithms.py" line="112"/>
        <source>Import field observations</source>
        <translation>导入外业观测</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/field_algorithms.py" line="114"/>
        <source>Imports a field package returned by a team (folder or .zip), or a folder of phone photos, as posts with the platform &quot;field&quot;: position, time and heading from the photo&apos;s EXIF or the form; the team&apos;s verdict and water depth become a verdict under the observer&apos;s name. Photos with a GPS position, a consistent GPS clock and a heading also join the reference imagery for geolocation. Photos without GPS, with a stale GPS fix or an impossible heading are imported and flagged, never used as references. Nothing arrives twice (by photo sha256 and by observation id). A package whose paths point outside it is refused, with the file named.</source>
        <translation>将外业团队交回的数据包（文件夹或 .zip）或手机照片文件夹导入为平台为“field”的帖子：位置、时间和朝向取自照片 EXIF 或表单；团队的判定和水深以观测者的名义成为判定。带 GPS 位置、GPS 时钟一致且有朝向的照片还会加入用于地理定位的参考影像。无 GPS、GPS 定位过时或朝向不可能的照片会被导入并标记，但绝不用作参考影像。不会重复导入（按照片 sha256 和观测 id）。路径指向数据包之外的数据包会被拒绝，并指明文件。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/field_algorithms.py" line="126"/>
        <source>Returned package (.zip)</source>
        <translation>交回的数据包 (.zip)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/field_algorithms.py" line="129"/>
        <source>or a returned package folder, or a folder of phone photos</source>
        <translation>或交回的数据包文件夹，或手机照片文件夹</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/field_algorithms.py" line="132"/>
        <source>Observer name when the form has none</source>
        <translation>表单未填写时的观测者名称</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/field_algorithms.py" line="134"/>
        <source>Observations imported</source>
        <translation>已导入的观测</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/field_algorithms.py" line="135"/>
        <source>New references</source>
        <translation>新增参考影像</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/field_algorithms.py" line="136"/>
        <source>Import summary (JSON)</source>
        <translation>导入摘要 (JSON)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/field_algorithms.py" line="147"/>
        <source>Choose a returned package (.zip) or a folder.</source>
        <translation>请选择交回的数据包 (.zip) 或文件夹。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/field_algorithms.py" line="157"/>
        <source>{imported} observations imported, {duplicates} already there, {references} new references, {flagged} flagged</source>
        <translation>已导入 {imported} 条观测，{duplicates} 条已存在，新增 {references} 个参考影像，{flagged} 条被标记</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/model_param.py" line="27"/>
        <source>{n} labels</source>
        <translation>{n} 个标签</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/model_param.py" line="49"/>
        <source>A model MIST knows, or an id, id@version or .onnx path</source>
        <translation>MIST 已知的模型，或 id、id@version 或 .onnx 路径</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/model_param.py" line="51"/>
        <source>Add a model…</source>
        <translation>添加模型…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/model_param.py" line="52"/>
        <source>Pick an .onnx model file; its folder is remembered as a model folder</source>
        <translation>选择一个 .onnx 模型文件；其所在文件夹会被记为模型文件夹</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/model_param.py" line="69"/>
        <source>no model yet: Add a model… or MIST › Models…</source>
        <translation>尚无模型：添加模型… 或 MIST › 模型…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/model_param.py" line="74"/>
        <source>Add a model</source>
        <translation>添加模型</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="188"/>
        <source>Re-read the store: photos, verdicts, models and analysts</source>
        <translation>重新读取数据库：照片、判定、模型和分析员</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/base.py" line="40"/>
        <source>Cancelled. Everything finished before the cancel is kept in the store; run the step again to continue where it stopped.</source>
        <translation>已取消。取消前完成的内容都保存在数据库中；再次运行该步骤即可从中断处继续。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="60"/>
        <source>{first}: {reason} (noted {n} times in this run)</source>
        <translation>{first}：{reason}（本次运行中记录了 {n} 次）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="173"/>
        <source>Gazetteer layer for posts without location</source>
        <translation>用于无位置帖子的地名图层</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/media_algorithms.py" line="84"/>
        <source>Largest file (MB)</source>
        <translation>单个文件上限 (MB)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/media_algorithms.py" line="87"/>
        <source>Most to download in this run (MB, 0: no limit)</source>
        <translation>本次运行最多下载量（MB，0：不限）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="53"/>
        <source>{n} verified photos, {k}-fold cross-validation: accuracy {a}, macro F1 {f}</source>
        <translation>{n} 张已核验照片，{k} 折交叉验证：准确率 {a}，宏 F1 {f}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="56"/>
        <source>  {label}: precision {p}, recall {r} ({n} photos)</source>
        <translation>  {label}：精确率 {p}，召回率 {r}（{n} 张照片）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="60"/>
        <source>Calibrated threshold for {label}: {t:.2f} (precision {p}, recall {r})</source>
        <translation>{label} 的校准阈值：{t:.2f}（精确率 {p}，召回率 {r}）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="82"/>
        <source>Runs an ONNX classifier or a trained head over every fetched photo of the store that has no prediction from this model yet (resumable). Writes the top labels per photo, the post&apos;s label, and embeddings when the model has them. An image+text model (multimodal crisis classifier) reads each photo with its post&apos;s text, using the tokenizer exported beside it. Unreadable photos are skipped with the reason recorded. A head whose training showed no skill beyond chance is refused unless allowed.</source>
        <translation>对数据库中尚无该模型预测结果的每张已获取照片运行 ONNX 分类器或已训练的分类头（可断点续跑）。写入每张照片的前几个标签、帖子的标签，以及模型提供的嵌入向量。图像+文本模型（多模态危机分类器）会将每张照片与其帖子的文本一起读取，并使用随模型导出的分词器。无法读取的照片会被跳过并记录原因。训练时未显示出优于随机水平技能的分类头将被拒绝，除非明确允许。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="97"/>
        <source>Screen even with a head that showed no skill</source>
        <translation>即使分类头未显示出技能也进行筛查</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="131"/>
        <source>Trains a class-balanced head (logistic regression or small MLP) on the analysts&apos; verified photos, using cached embeddings of a backbone model and/or of the post text (computed first where missing). Reports cross-validated precision, recall and F1 over repeated splits with their spread and a calibrated threshold, and writes the head as an ONNX model that &apos;Classify photos&apos; runs and other teams can import. A permutation test compares the cross-validated AUC with the same cross-validation on shuffled labels: a head without skill beyond chance is written marked &apos;no skill&apos;, without a tuned threshold, and &apos;Classify photos&apos; refuses it unless allowed.</source>
        <translation>基于分析员已核验的照片训练类别均衡的分类头（逻辑回归或小型 MLP），使用骨干模型和/或帖子文本的缓存嵌入向量（缺失时先行计算）。报告多次重复划分下交叉验证的精确率、召回率、F1 及其离散程度，以及校准后的阈值，并将分类头写为 ONNX 模型，供“照片分类”运行，也可供其他团队导入。置换检验将交叉验证的 AUC 与打乱标签后相同交叉验证的结果进行比较：未显示出优于随机水平技能的分类头会被标记为“无技能”写出，不带调优阈值，且“照片分类”会拒绝使用它，除非明确允许。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="153"/>
        <source>Also save the head as</source>
        <translation>另存分类头为</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="157"/>
        <source>Skill beyond chance, in one line</source>
        <translation>是否优于随机水平（一句话说明）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="158"/>
        <source>Usable for screening (1) or no skill (0)</source>
        <translation>可用于筛查 (1) 或无技能 (0)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/model_algorithms.py" line="201"/>
        <source>Saved as model {tag}: choose it in Classify photos.</source>
        <translation>已保存为模型 {tag}：可在“照片分类”中选择。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="73"/>
        <source>Posts: all located, predicted flood (weighted by score) or verified flood</source>
        <translation>帖子：全部已定位、预测为洪水（按得分加权）或已核实为洪水</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="133"/>
        <source>Query: text, exemplar photos, verified flood photos of the store, exemplar boxes or a patch head trained on labelled boxes</source>
        <translation>查询：文本、示例照片、存储库中已核实的洪水照片、示例框，或用带标签框训练的图块分类头</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="276"/>
        <source>Region coordinates: map (through the map&apos;s geotransform) or pixel (x = column, y = row)</source>
        <translation>区域坐标：地图坐标（经地图的地理变换）或像素坐标（x = 列，y = 行）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="359"/>
        <source>From the store's verified flood posts with a water depth and a DEM: water surface = ground + depth at each post, interpolated (inverse distance or nearest) up to a maximum distance from evidence; depth = surface - ground where positive, kept only where hydraulically connected to a post (water flows between cells sharing an edge, or also a corner when chosen). Distances and areas are ground metres on the WGS 84 ellipsoid whatever the DEM's CRS. Writes a depth GeoTIFF and extent polygons with areas in m² (GeoPackage, with the evidence points and why any was skipped) and reports neighbouring posts whose water surfaces disagree.</source>
        <translation>基于数据库中带水深的已核验淹水帖子和数字高程模型 (DEM)：每条帖子处的水面 = 地面 + 水深，在距证据点不超过最大距离的范围内插值（反距离或最近点）；水深 = 水面 - 地面（仅取正值），且只保留与帖子水力连通的区域（水在共享边的栅格间流动，选择时也可经由共享角点）。无论 DEM 采用何种坐标参考系，距离和面积均为 WGS 84 椭球面上的地面米数。写出水深 GeoTIFF 和带面积 (m²) 的淹没范围多边形（GeoPackage，包含证据点及被跳过的原因），并报告水面高程不一致的相邻帖子。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="372"/>
        <source>Interpolation: inverse distance weighting (idw) or nearest post</source>
        <translation>插值：反距离加权（idw）或最近帖子</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="385"/>
        <source>Water connects through edges (4 neighbours) or edges and corners (8)</source>
        <translation>水体连通方式：仅通过边（4 邻域）或通过边和角（8 邻域）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="426"/>
        <source>{post} skipped: {reason}</source>
        <translation>{post} 已跳过：{reason}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/raster_algorithms.py" line="428"/>
        <source>{a} and {b}: water surfaces differ by {d:.2f} m</source>
        <translation>{a} 与 {b}：水面高程相差 {d:.2f} 米</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/verify_algorithms.py" line="41"/>
        <source>Format (auto: from the file extension)</source>
        <translation>格式（auto：由文件扩展名判断）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/live_dock.py" line="93"/>
        <source>MIST Live</source>
        <translation>MIST 实时</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/live_dock.py" line="115"/>
        <source>One file, folder or http(s) URL per line</source>
        <translation>每行一个文件、文件夹或 http(s) URL</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/live_dock.py" line="121"/>
        <source>Sources</source>
        <translation>数据源</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/live_dock.py" line="122"/>
        <source>Head (.onnx)</source>
        <translation>分类头 (.onnx)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/live_dock.py" line="123"/>
        <source>Alert score</source>
        <translation>告警得分</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/live_dock.py" line="124"/>
        <source>Alert keywords</source>
        <translation>告警关键词</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/live_dock.py" line="152"/>
        <source>Start</source>
        <translation>开始</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/live_dock.py" line="153"/>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/live_dock.py" line="154"/>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/live_dock.py" line="297"/>
        <source>Stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/live_dock.py" line="297"/>
        <source>Watching</source>
        <translation>监视中</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/live_dock.py" line="297"/>
        <source>Paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/live_dock.py" line="297"/>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/live_dock.py" line="344"/>
        <source>{rate} posts/min · {share:.0%} screened as flood · {alerts} open alerts
queues: {fetch} photos to fetch · {screen} posts to screen</source>
        <translation>{rate} 条帖子/分钟 · {share:.0%} 筛查为洪水 · {alerts} 条未关闭告警
队列：{fetch} 张照片待获取 · {screen} 条帖子待筛查</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/live_dock.py" line="398"/>
        <source>MIST alert</source>
        <translation>MIST 告警</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/live_dock.py" line="400"/>
        <source>Zoom to</source>
        <translation>缩放至</translation>
    </message>
    <message>
        <location filename="../mist_qgis/plugin.py" line="128"/>
        <source>Live</source>
        <translation>实时</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/live_algorithms.py" line="46"/>
        <source>Stop time {text} is not an ISO 8601 time</source>
        <translation>停止时间 {text} 不是 ISO 8601 时间</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/live_algorithms.py" line="54"/>
        <source>Watch live sources</source>
        <translation>监视实时数据源</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/live_algorithms.py" line="72"/>
        <source>Sources: files, folders or http(s) URLs, one per line</source>
        <translation>数据源：文件、文件夹或 http(s) URL，每行一个</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/live_algorithms.py" line="74"/>
        <source>Head or classifier that screens the photos (optional)</source>
        <translation>筛查照片的分类头或分类器（可选）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/live_algorithms.py" line="76"/>
        <source>Alert when the head&apos;s score is at least (0: no score condition)</source>
        <translation>分类头得分不低于此值时告警（0：不设得分条件）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/live_algorithms.py" line="79"/>
        <source>Label the score is for</source>
        <translation>得分对应的标签</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/live_algorithms.py" line="81"/>
        <source>Area of interest (polygons, optional)</source>
        <translation>关注区域（多边形，可选）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/live_algorithms.py" line="86"/>
        <source>Alert keywords, comma-separated (optional)</source>
        <translation>告警关键词，以逗号分隔（可选）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/live_algorithms.py" line="103"/>
        <source>Stop at (ISO 8601 time, optional)</source>
        <translation>停止时间（ISO 8601 时间，可选）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/live_algorithms.py" line="105"/>
        <source>Stop after this many records (0: no limit)</source>
        <translation>读取这么多条记录后停止（0：不限）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/live_algorithms.py" line="108"/>
        <source>Seconds between polls</source>
        <translation>轮询间隔（秒）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/live_algorithms.py" line="111"/>
        <source>Fetch the posts&apos; photos</source>
        <translation>获取帖子的照片</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/live_algorithms.py" line="113"/>
        <source>Allow private and loopback hosts (intranet feeds and photo servers)</source>
        <translation>允许私有和回环主机（内网数据流和照片服务器）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/live_algorithms.py" line="116"/>
        <source>Records read</source>
        <translation>已读取记录数</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/live_algorithms.py" line="116"/>
        <source>Posts imported</source>
        <translation>已导入帖子数</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/live_algorithms.py" line="116"/>
        <source>Alerts raised</source>
        <translation>已发出告警数</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/live_algorithms.py" line="132"/>
        <source>No source to watch: name a file, a folder or an http(s) URL.</source>
        <translation>没有要监视的数据源：请指定文件、文件夹或 http(s) URL。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/live_algorithms.py" line="162"/>
        <source>{read} records read, {imported} imported, {alerts} alerts</source>
        <translation>已读取 {read} 条记录，导入 {imported} 条，告警 {alerts} 条</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/live_algorithms.py" line="192"/>
        <source>The area of interest holds no polygon.</source>
        <translation>关注区域中没有多边形。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="180"/>
        <source>Candidates from retrieval: image embedding model tag (optional)</source>
        <translation>检索候选：图像嵌入模型标签（可选）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="182"/>
        <source>Retrieval neighbours</source>
        <translation>检索近邻数</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/retrieval_algorithms.py" line="29"/>
        <source>Locate photos by retrieval of geotagged neighbours</source>
        <translation>通过检索带地理标签的近邻定位照片</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/retrieval_algorithms.py" line="43"/>
        <source>Image embedding model tag (empty: the store&apos;s only one)</source>
        <translation>图像嵌入模型标签（留空：存储中唯一的模型）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/retrieval_algorithms.py" line="45"/>
        <source>Neighbours per photo (k)</source>
        <translation>每张照片的近邻数 (k)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/retrieval_algorithms.py" line="47"/>
        <source>Folder for the probability rasters</source>
        <translation>概率栅格输出文件夹</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/retrieval_algorithms.py" line="49"/>
        <source>Photos placed</source>
        <translation>已定位的照片</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/retrieval_algorithms.py" line="67"/>
        <source>Index rebuilt: {reason}</source>
        <translation>索引已重建：{reason}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/text_categories_panel.py" line="21"/>
        <source>urgent help needed</source>
        <translation>急需救助</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/text_categories_panel.py" line="21"/>
        <source>relief and rescue information</source>
        <translation>救援与救济信息</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/text_categories_panel.py" line="21"/>
        <source>infrastructure damage</source>
        <translation>基础设施损毁</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/text_categories_panel.py" line="21"/>
        <source>caution and advice</source>
        <translation>警示与建议</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/text_categories_panel.py" line="21"/>
        <source>misinformation</source>
        <translation>不实信息</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/text_categories_panel.py" line="21"/>
        <source>not relevant</source>
        <translation>无关</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/text_categories_panel.py" line="21"/>
        <source>flood</source>
        <translation>淹水</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/text_categories_panel.py" line="21"/>
        <source>not flood</source>
        <translation>未淹水</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/text_categories_panel.py" line="21"/>
        <source>keyword rule</source>
        <translation>关键词规则</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/text_categories_panel.py" line="21"/>
        <source>head</source>
        <translation>分类头</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/text_categories_panel.py" line="21"/>
        <source>analyst</source>
        <translation>分析员</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/text_categories_panel.py" line="21"/>
        <source>head + keyword rule</source>
        <translation>分类头 + 关键词规则</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/text_categories_panel.py" line="36"/>
        <source>Text categories</source>
        <translation>文本类别</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/text_categories_panel.py" line="46"/>
        <source>Set categories</source>
        <translation>设置类别</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/text_categories_panel.py" line="64"/>
        <source>No post selected.</source>
        <translation>未选择帖子。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/text_categories_panel.py" line="73"/>
        <source>Text categories are not available: {e}</source>
        <translation>文本类别不可用：{e}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/text_categories_panel.py" line="84"/>
        <source>Not screened yet.</source>
        <translation>尚未筛查。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/text_categories_panel.py" line="86"/>
        <source>No text (not counted as a negative).</source>
        <translation>无文本（不计为负例）。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_text_posts.py" line="347"/>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/text_categories_panel.py" line="90"/>
        <source>{names} — from {source}{confidence}</source>
        <translation>{names} — 来自{source}{confidence}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/text_categories_panel.py" line="142"/>
        <source>Saved.</source>
        <translation>已保存。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/text_algorithms.py" line="26"/>
        <source>Text screening</source>
        <translation>文本筛查</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/text_algorithms.py" line="31"/>
        <source>Text features</source>
        <translation>文本特征</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/text_algorithms.py" line="50"/>
        <source>Screen post text</source>
        <translation>筛查帖子文本</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/text_algorithms.py" line="64"/>
        <source>Text heads folder (empty: keyword rules)</source>
        <translation>文本分类头文件夹（留空：使用关键词规则）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/text_algorithms.py" line="67"/>
        <source>Screen even with a text head whose training showed no skill beyond chance</source>
        <translation>即使文本分类头的训练未显示出超越随机水平的能力，也用它筛查</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/text_algorithms.py" line="95"/>
        <source>Train text heads from post categories</source>
        <translation>根据帖子类别训练文本分类头</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/text_algorithms.py" line="96"/>
        <source>Trains one head per category on the text features of the posts analysts have categorised (a post may hold several categories). Reports cross-validated precision, recall and F1 and a calibrated threshold per category, and writes text-&lt;category&gt;.onnx files into the output folder for &apos;Screen post text&apos;. Each head is tested against shuffled labels: a head without skill beyond chance is written marked &apos;no skill&apos;, without a tuned threshold, and is not used to screen unless allowed.</source>
        <translation>在分析员已分类帖子的文本特征上为每个类别训练一个分类头（一条帖子可属于多个类别）。报告每个类别的交叉验证精确率、召回率和 F1 以及校准阈值，并将 text-&lt;类别&gt;.onnx 文件写入输出文件夹，供“筛查帖子文本”使用。每个分类头都与打乱标签的结果对比检验：未显示出超越随机水平能力的分类头会标记为“无能力”写出，不带调优阈值，除非明确允许，否则不用于筛查。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/text_algorithms.py" line="171"/>
        <source>Text heads folder</source>
        <translation>文本分类头文件夹</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/text_algorithms.py" line="108"/>
        <source>Cross-validated metrics per category (JSON)</source>
        <translation>每个类别的交叉验证指标 (JSON)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/text_algorithms.py" line="122"/>
        <source>Computing text features first</source>
        <translation>先计算文本特征</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/text_algorithms.py" line="135"/>
        <source>Post categories and keyword rules</source>
        <translation>帖子类别与关键词规则</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/text_algorithms.py" line="136"/>
        <source>Lists the store&apos;s post categories with their keyword rules, or replaces them from a CSV table with the columns name, title and keywords (separated by &apos;;&apos;), one category per row in desk order. Analysts&apos; labels and earlier results are kept; screen the text again to apply new keyword rules.</source>
        <translation>列出数据库中的帖子类别及其关键词规则，或用 CSV 表替换它们：列为 name、title 和 keywords（以“;”分隔），每行一个类别，按处理台顺序排列。分析员的标注和之前的结果会保留；重新筛查文本以应用新的关键词规则。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/text_algorithms.py" line="144"/>
        <source>Category table (CSV; empty: list only)</source>
        <translation>类别表（CSV；留空：仅列出）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/text_algorithms.py" line="146"/>
        <source>Categories (JSON)</source>
        <translation>类别 (JSON)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/text_algorithms.py" line="163"/>
        <source>Suggest posts to categorise next</source>
        <translation>建议接下来分类的帖子</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/text_algorithms.py" line="164"/>
        <source>Lists posts not yet categorised by an analyst that some text head is least sure about, mixed with a random sample so that precision estimated from labelled posts stays honest.</source>
        <translation>列出尚未由分析员分类、且某个文本分类头最不确定的帖子，并混入随机样本，使根据已标注帖子估计的精确率保持可信。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/text_algorithms.py" line="173"/>
        <source>Number of posts</source>
        <translation>帖子数量</translation>
    </message>
    <message>
        <location filename="../mist_qgis/qgis_ops/layers.py" line="380"/>
        <source>no text</source>
        <translation>无文本</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/install_task.py" line="25"/>
        <source>MIST: install dependencies</source>
        <translation>MIST：安装依赖</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/install_dialog.py" line="48"/>
        <source>MIST {version} installs its Python packages into {folder}. QGIS&apos;s own packages (numpy, GDAL, Qt) are kept as they are.</source>
        <translation>MIST {version} 将其 Python 包安装到 {folder}。QGIS 自带的包（numpy、GDAL、Qt）保持不变。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/install_dialog.py" line="51"/>
        <source>Installed already ({build}); installing again replaces it.</source>
        <translation>已安装（{build}）；再次安装将替换它。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/install_dialog.py" line="57"/>
        <source>From the Python package index (needs the internet)</source>
        <translation>从 Python 软件包索引安装（需要联网）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/install_dialog.py" line="58"/>
        <source>From a wheelhouse folder or zip (offline)</source>
        <translation>从 wheel 文件夹或 zip 安装（离线）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/install_dialog.py" line="64"/>
        <source>Folder or .zip of wheels</source>
        <translation>wheel 文件夹或 .zip</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/install_dialog.py" line="65"/>
        <source>Folder…</source>
        <translation>文件夹…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/install_dialog.py" line="66"/>
        <source>Zip…</source>
        <translation>Zip…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/install_dialog.py" line="73"/>
        <source>Install the CPU build even if a GPU is present</source>
        <translation>即使有 GPU 也安装 CPU 版本</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/install_dialog.py" line="91"/>
        <source>Install</source>
        <translation>安装</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/install_dialog.py" line="92"/>
        <source>Cancel install</source>
        <translation>取消安装</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/install_dialog.py" line="109"/>
        <source>GPU build (onnxruntime-gpu with CUDA)</source>
        <translation>GPU 版本（onnxruntime-gpu，使用 CUDA）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/install_dialog.py" line="109"/>
        <source>CPU build (onnxruntime)</source>
        <translation>CPU 版本（onnxruntime）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/install_dialog.py" line="110"/>
        <source>ONNX Runtime: {build}. Why: {reason}.</source>
        <translation>ONNX Runtime：{build}。原因：{reason}。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/install_dialog.py" line="119"/>
        <source>Wheelhouse folder</source>
        <translation>wheel 文件夹</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/install_dialog.py" line="125"/>
        <source>Wheelhouse zip</source>
        <translation>wheel 压缩包</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/install_dialog.py" line="125"/>
        <source>Zip files (*.zip)</source>
        <translation>Zip 文件 (*.zip)</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/install_dialog.py" line="135"/>
        <source>Choose the wheelhouse folder or zip first.</source>
        <translation>请先选择 wheel 文件夹或 zip。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/install_dialog.py" line="142"/>
        <source>Starting…</source>
        <translation>正在开始…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/install_dialog.py" line="148"/>
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/install_dialog.py" line="157"/>
        <source>Installed {n} packages ({build}; QGIS&apos;s own {kept} kept). Execution providers: {providers}. MIST can use them now.</source>
        <translation>已安装 {n} 个包（{build}；保留 QGIS 自带的 {kept} 个）。执行提供程序：{providers}。MIST 现在可以使用它们。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/install_dialog.py" line="163"/>
        <source>Cancelled. Nothing was changed.</source>
        <translation>已取消。未做任何更改。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/install_dialog.py" line="175"/>
        <source>The installation failed. Nothing was changed.</source>
        <translation>安装失败。未做任何更改。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/install_dialog.py" line="169"/>
        <source>Package: {name}</source>
        <translation>软件包：{name}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/install_dialog.py" line="170"/>
        <source>Why: {reason}</source>
        <translation>原因：{reason}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/install_dialog.py" line="171"/>
        <source>What to do: {action}</source>
        <translation>解决办法：{action}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/plugin.py" line="54"/>
        <source>Install dependencies…</source>
        <translation>安装依赖…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/posts_dock.py" line="88"/>
        <source>Longitude/latitude (WGS 84)</source>
        <translation>经纬度（WGS 84）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/posts_dock.py" line="90"/>
        <source>The CRS of projected x/y columns (Web Mercator, a UTM zone, a national grid); they are transformed to WGS 84</source>
        <translation>投影 x/y 列的坐标参考系（Web 墨卡托、UTM 分带、国家格网）；导入时转换为 WGS 84</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/posts_dock.py" line="92"/>
        <source>Coordinates CRS</source>
        <translation>坐标参考系</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/posts_dock.py" line="94"/>
        <source>UTC (Weibo: China time); e.g. Asia/Shanghai</source>
        <translation>UTC（微博：北京时间）；例如 Asia/Shanghai</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/posts_dock.py" line="95"/>
        <source>The time zone of times written without one</source>
        <translation>未注明时区的时间所在的时区</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/posts_dock.py" line="100"/>
        <source>Local times are in</source>
        <translation>本地时间的时区</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/import_algorithm.py" line="62"/>
        <source>Imports post collections into a MIST store as points: Twitter/X v1.1 JSON (lines or arrays) and v2 responses, Weibo exports and MIST-SMMD tables, CrisisMMD TSV, any CSV/TSV with coordinate, WKT, time, text or image columns, GeoJSON FeatureCollections and sequences, and folders of geotagged photos. The format is detected from the content unless chosen. Every record is accounted for: imported, duplicate (already in the store), unlocated (kept for later geolocation) or skipped with file, line and reason in the run&apos;s issue report. Authors are pseudonymised unless names are kept. Importing again is harmless and completes a cancelled import. Column mapping: field=column pairs separated by &apos;;&apos; (fields: post_id, lon, lat, wkt, time, text, photo, media_url, author, url, lang, platform, direction, altitude, accuracy). Coordinates are longitude/latitude in WGS 84 unless a CRS is chosen for projected x/y columns (Web Mercator, a UTM zone, a national grid); they are transformed to WGS 84. Times without a time zone are read as UTC (Weibo exports: China time) unless their time zone is given, e.g. Asia/Shanghai; the report says once per file when a file has such times.</source>
        <translation>将帖子采集数据以点的形式导入 MIST 数据库：Twitter/X v1.1 JSON（逐行或数组）和 v2 响应、微博导出数据和 MIST-SMMD 表格、CrisisMMD TSV、任何含坐标、WKT、时间、文本或图像列的 CSV/TSV、GeoJSON FeatureCollection 及序列，以及带地理标记的照片文件夹。除非手动指定，格式将根据内容自动识别。每条记录都有明确去向：已导入、重复（数据库中已存在）、无位置（保留以待之后地理定位），或被跳过（文件、行号和原因列在本次运行的问题报告中）。除非选择保留姓名，作者将被假名化。重复导入不会造成问题，还可补全已取消的导入。列映射：以“;”分隔的 field=column 对（字段：post_id, lon, lat, wkt, time, text, photo, media_url, author, url, lang, platform, direction, altitude, accuracy）。坐标默认为 WGS 84 经纬度；若为投影 x/y 列（Web 墨卡托、UTM 分带、国家格网），请选择其坐标参考系，导入时转换为 WGS 84。未注明时区的时间按 UTC 读取（微博导出数据按北京时间），除非指定其时区，例如 Asia/Shanghai；文件中有此类时间时，报告中每个文件提示一次。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/import_algorithm.py" line="91"/>
        <source>CRS of projected x/y columns (empty: longitude/latitude in WGS 84)</source>
        <translation>投影 x/y 列的坐标参考系（留空：WGS 84 经纬度）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/import_algorithm.py" line="93"/>
        <source>Time zone of times without one (e.g. Asia/Shanghai; empty: UTC)</source>
        <translation>未注明时区的时间所在的时区（例如 Asia/Shanghai；留空：UTC）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/qgis_ops/layers.py" line="125"/>
        <source>Cannot open the {table} of store {path}</source>
        <translation>无法打开数据库 {path} 的 {table}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/algorithm_task.py" line="49"/>
        <source>Processing algorithm {id} is not registered</source>
        <translation>处理算法 {id} 未注册</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/algorithm_task.py" line="87"/>
        <source>The step failed; see the Processing log for details.</source>
        <translation>该步骤失败；详情请查看处理（Processing）日志。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/model_manager.py" line="38"/>
        <source>text encoder: {languages}</source>
        <translation>文本编码器：{languages}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/model_param.py" line="29"/>
        <source>languages unknown</source>
        <translation>语言未知</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verdict_controller.py" line="107"/>
        <source>The categories could not be saved: {error}</source>
        <translation>无法保存类别：{error}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="1042"/>
        <source>This store is open read-only: categories cannot be set.</source>
        <translation>此存储以只读方式打开：无法设置类别。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_filters.py" line="22"/>
        <source>Posts without photos</source>
        <translation>无照片的帖子</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_text_posts.py" line="41"/>
        <source>Categories</source>
        <translation>类别</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_text_posts.py" line="154"/>
        <source>not screened</source>
        <translation>未筛查</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_text_posts.py" line="174"/>
        <source>Only not categorised</source>
        <translation>仅未分类</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_text_posts.py" line="175"/>
        <source>Hide the posts an analyst has already categorised</source>
        <translation>隐藏分析员已分类的帖子</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_text_posts.py" line="178"/>
        <source>Colour the map by category</source>
        <translation>按类别为地图着色</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_text_posts.py" line="179"/>
        <source>Style the posts layer by text category, legend in your language</source>
        <translation>按文本类别设置帖子图层样式，图例使用您的语言</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_text_posts.py" line="214"/>
        <source>Keys: 1-9 switch a category, 0 none of these, arrows move, Ctrl+Z undo</source>
        <translation>按键：1-9 切换类别，0 表示都不是，方向键移动，Ctrl+Z 撤销</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_text_posts.py" line="256"/>
        <source>{n} posts without photos</source>
        <translation>{n} 条无照片的帖子</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_text_posts.py" line="283"/>
        <source>This is the last post in the queue.</source>
        <translation>这是队列中的最后一条帖子。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/plugin.py" line="210"/>
        <source>Posts coloured by text category: {n} layer(s).</source>
        <translation>已按文本类别为帖子着色：{n} 个图层。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_text_posts.py" line="337"/>
        <source>The category list has no category {n}.</source>
        <translation>类别列表中没有第 {n} 个类别。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_text_posts.py" line="348"/>
        <source>Saved: {categories} for post {post}.</source>
        <translation>已保存：帖子 {post} 的类别 {categories}。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_text_posts.py" line="358"/>
        <source>Undone: the categories of post {post}.</source>
        <translation>已撤销：帖子 {post} 的类别。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/plugin.py" line="58"/>
        <source>Screen post text…</source>
        <translation>筛查帖子文本…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/plugin.py" line="70"/>
        <source>Style posts by category</source>
        <translation>按类别设置帖子样式</translation>
    </message>
    <message>
        <location filename="../mist_qgis/plugin.py" line="203"/>
        <source>Open or create a MIST store first.</source>
        <translation>请先打开或创建一个 MIST 存储。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/text_algorithms.py" line="32"/>
        <source>Text encoder for the multilingual features (empty: the first multilingual one)</source>
        <translation>多语言特征的文本编码器（留空：使用第一个多语言编码器）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/text_algorithms.py" line="51"/>
        <source>Screens the text of every post, with or without a photo: stores its text features under the post and gives it categories from the text heads in a folder, or from the keyword rules where no head exists (shown as &apos;keyword rule&apos;). Posts with no text (empty, only a link or only emoji) are marked &apos;no text&apos; and never counted as negatives. The posts layer shows the result in text_categories, text_category_source and text_confidence. A text head whose training showed no skill beyond chance is refused unless allowed. The multilingual features read a text encoder from the model folders: the one chosen, else the first whose model card lists several languages.</source>
        <translation>筛查每条帖子的文本（无论是否带照片）：按帖子保存其文本特征，并由文件夹中的文本分类头给出类别；尚无分类头的类别由关键词规则给出（显示为“关键词规则”）。没有文本的帖子（空文本、只有链接或只有表情符号）标记为“无文本”，从不计为负例。帖子图层在 text_categories、text_category_source 和 text_confidence 字段中显示结果。训练时未显示出超越随机水平能力的文本分类头会被拒绝，除非明确允许。多语言特征从模型文件夹中读取文本编码器：所选的那个，否则为模型卡列出多种语言的第一个。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/live_dock.py" line="126"/>
        <source>Only within the map extent</source>
        <translation>仅限当前地图范围内</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/live_dock.py" line="127"/>
        <source>Show only the posts in the area of interest</source>
        <translation>只显示关注区域内的帖子</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/live_dock.py" line="134"/>
        <source>never</source>
        <translation>从不</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/live_dock.py" line="135"/>
        <source>Retrain the head every N verdicts</source>
        <translation>每 N 条判定重新训练分类头</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/live_dock.py" line="139"/>
        <source>Gazetteer (place posts from their text)</source>
        <translation>地名库（根据文本为帖子定位）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/live_dock.py" line="141"/>
        <source>Time follows the newest post</source>
        <translation>时间跟随最新帖子</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/live_dock.py" line="145"/>
        <source> min</source>
        <translation> 分钟</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/live_dock.py" line="149"/>
        <source>Temporal controller</source>
        <translation>时间控制器</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/live_dock.py" line="438"/>
        <source>, F1 {f1:.2f}</source>
        <translation>，F1 {f1:.2f}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/live_dock.py" line="439"/>
        <source>Head {model} screens{f1}: {reason}</source>
        <translation>分类头 {model} 正在筛查{f1}：{reason}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/live_dock.py" line="441"/>
        <source>{model} was not used: {reason}</source>
        <translation>{model} 未被采用：{reason}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/live_dock.py" line="457"/>
        <source>line {line}</source>
        <translation>第 {line} 行</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/live_dock.py" line="459"/>
        <source>{n} files read</source>
        <translation>已读取 {n} 个文件</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/live_dock.py" line="461"/>
        <source>version {tag}</source>
        <translation>版本 {tag}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/live_dock.py" line="462"/>
        <source>{source} ({kind}): {state}; last poll {polled}</source>
        <translation>{source}（{kind}）：{state}；上次轮询 {polled}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/live_dock.py" line="467"/>
        <source>{n} failures, last: {error}; next try {at}</source>
        <translation>失败 {n} 次，最近一次：{error}；下次尝试 {at}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/live_algorithms.py" line="56"/>
        <source>Watches growing JSON-lines files (Twitter v1.1 and v2, with rotation and truncation), drop folders (post files and photos) and http(s) JSON or GeoJSON feeds (conditional requests, backoff; public hosts only unless private hosts are allowed). Each arriving batch is imported together with the source&apos;s position, its photos fetched (photos that failed for a passing reason are tried again later), screened by the head, placed from the place names in their text when they have no coordinates (with a gazetteer) and checked against the alert rule. A head on embeddings is retrained every N new verdicts and replaced only if its cross-validated F1 is not worse. Stopping and starting again goes on exactly where it stopped. Runs until cancelled, the stop time or the post limit.</source>
        <translation>监视不断增长的 JSON-lines 文件（Twitter v1.1 和 v2，支持轮转和截断）、投放文件夹（帖子文件和照片）以及 http(s) JSON 或 GeoJSON 数据源（条件请求、失败退避；除非允许私有主机，否则仅限公共主机）。每个到达的批次连同数据源的位置一起导入，获取其照片（因暂时性原因失败的照片稍后会重试），由分类头筛查，没有坐标的帖子（提供地名库时）根据文本中的地名定位，并按预警规则检查。基于嵌入向量的分类头每当有 N 条新判定时重新训练，只有当其交叉验证 F1 不变差时才替换。停止后再次启动会从停止处准确继续。运行直到取消、到达停止时间或帖子数上限。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/live_algorithms.py" line="84"/>
        <source>Area of interest as an extent (optional)</source>
        <translation>以范围表示的关注区域（可选）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/live_algorithms.py" line="88"/>
        <source>Retrain the head every N new verdicts (0: never)</source>
        <translation>每 N 条新判定重新训练分类头（0：从不）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/live_algorithms.py" line="91"/>
        <source>Folder for the head&apos;s versions (optional; default: the profile&apos;s model folder)</source>
        <translation>分类头各版本的保存文件夹（可选；默认：配置文件的模型文件夹）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/live_algorithms.py" line="94"/>
        <source>Gazetteer layer: place posts without coordinates from their text (optional)</source>
        <translation>地名库图层：根据文本为没有坐标的帖子定位（可选）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/live_algorithms.py" line="100"/>
        <source>Retries of a photo whose fetch failed for a passing reason</source>
        <translation>因暂时性原因获取失败的照片的重试次数</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/live_algorithms.py" line="116"/>
        <source>Posts placed from their text</source>
        <translation>根据文本定位的帖子</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/live_algorithms.py" line="116"/>
        <source>Head versions trained</source>
        <translation>已训练的分类头版本</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/live_algorithms.py" line="166"/>
        <source>Head: {note}</source>
        <translation>分类头：{note}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/live_algorithms.py" line="199"/>
        <source>The area of interest&apos;s polygons lie outside its extent.</source>
        <translation>关注区域的多边形位于其范围之外。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="120"/>
        <source>Live updates stopped ({error}); the store is still checked every few seconds.</source>
        <translation>实时更新已停止（{error}）；仍每隔几秒检查一次数据库。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="207"/>
        <source>Save mine anyway</source>
        <translation>仍保存我的判定</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="209"/>
        <source>Keep theirs</source>
        <translation>保留对方的判定</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="313"/>
        <source>One post at a time</source>
        <translation>一次一条帖子</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="314"/>
        <source>Take posts one by one, each held for you alone, so that analysts working on the same store never judge the same post twice</source>
        <translation>逐条领取帖子，每条只为您保留，使在同一数据库上工作的分析员不会重复判定同一条帖子</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/store_choice.py" line="48"/>
        <source>GeoPackage file…</source>
        <translation>GeoPackage 文件…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/store_choice.py" line="51"/>
        <source>Team stores (PostgreSQL connections of QGIS)</source>
        <translation>团队数据库（QGIS 中的 PostgreSQL 连接）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/store_choice.py" line="55"/>
        <source>Team store by connection…</source>
        <translation>按连接打开团队数据库…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/store_choice.py" line="73"/>
        <source>Open a team store</source>
        <translation>打开团队数据库</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/store_choice.py" line="73"/>
        <source>service=NAME (pg_service.conf), postgresql://user@host/db or qgis:CONNECTION; no password:</source>
        <translation>service=名称（pg_service.conf）、postgresql://用户@主机/数据库 或 qgis:连接名；不要包含密码：</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/store_choice.py" line="80"/>
        <source>Not a team store: use service=…, postgresql://… or qgis:…</source>
        <translation>不是团队数据库：请使用 service=…、postgresql://… 或 qgis:…</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="895"/>
        <source>No post is left to hand out: every post has its verdicts.</source>
        <translation>没有可分配的帖子了：每条帖子都已有判定。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="901"/>
        <source>Post {post} is yours until {time} UTC.</source>
        <translation>帖子 {post} 为您保留至 {time} UTC。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="911"/>
        <source>No photo to judge</source>
        <translation>没有可判定的照片</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="911"/>
        <source>Judge this post by its text: the verdict covers the post.</source>
        <translation>请根据文本判定这条帖子：判定适用于整条帖子。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="923"/>
        <source>photo {n}</source>
        <translation>照片 {n}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="923"/>
        <source>post {n}</source>
        <translation>帖子 {n}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="926"/>
        <source>{analyst} judged {what} as {theirs} since you loaded it; yours: {mine}.</source>
        <translation>在您载入之后，{analyst} 将{what}判定为{theirs}；您的判定：{mine}。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="933"/>
        <source>Not saved: another analyst was quicker.</source>
        <translation>未保存：另一位分析员先做出了判定。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="965"/>
        <source>Analysts disagree on this photo: {said}</source>
        <translation>分析员对这张照片的判定不一致：{said}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="987"/>
        <source>{n} verdicts from other analysts; the table is up to date.</source>
        <translation>其他分析员的 {n} 条判定；表格已是最新。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="989"/>
        <source>{analyst} took back a verdict on post {post}.</source>
        <translation>{analyst} 撤回了对帖子 {post} 的一条判定。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="991"/>
        <source>{analyst} judged post {post}: {verdict}.</source>
        <translation>{analyst} 判定了帖子 {post}：{verdict}。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/match_pane.py" line="83"/>
        <source>Right place</source>
        <translation>位置正确</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/match_pane.py" line="84"/>
        <source>The reference shows where this photo was taken: the placement is right. These verdicts refit the geolocation confidence.</source>
        <translation>参考影像显示的正是这张照片的拍摄地点：定位正确。这些判定用于重新拟合地理定位置信度。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/match_pane.py" line="86"/>
        <source>Wrong place</source>
        <translation>位置错误</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/match_pane.py" line="87"/>
        <source>The reference shows another place: the placement is wrong. These verdicts refit the geolocation confidence.</source>
        <translation>参考影像显示的是别处：定位错误。这些判定用于重新拟合地理定位置信度。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/match_pane.py" line="108"/>
        <source>Placement judged right</source>
        <translation>定位已判定为正确</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/match_pane.py" line="108"/>
        <source>Placement judged wrong</source>
        <translation>定位已判定为错误</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/match_pane.py" line="108"/>
        <source>Placement not judged yet</source>
        <translation>定位尚未判定</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="125"/>
        <source>perfectly calibrated</source>
        <translation>完全校准</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="128"/>
        <source>in use, ECE {e:.3f}</source>
        <translation>当前使用，ECE {e:.3f}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="131"/>
        <source>refit (out of fold), ECE {e:.3f}</source>
        <translation>重新拟合（折外），ECE {e:.3f}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="142"/>
        <source>Confidence</source>
        <translation>置信度</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="143"/>
        <source>Share judged right place</source>
        <translation>判定为位置正确的比例</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="234"/>
        <source>Geolocation confidence against placement verdicts</source>
        <translation>地理定位置信度与定位判定对比</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="353"/>
        <source>No placement verdicts yet: judge placements in the Match view (Right place / Wrong place).</source>
        <translation>尚无定位判定：请在匹配视图中判定定位（位置正确 / 位置错误）。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="357"/>
        <source>{n} placement verdicts ({k} right place).</source>
        <translation>{n} 条定位判定（{k} 条位置正确）。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="362"/>
        <source>Refit version {v} on {n} verdicts: ECE {b:.3f} -&gt; {a:.3f} (out of fold); {use}.</source>
        <translation>第 {v} 版重新拟合，基于 {n} 条判定：ECE {b:.3f} -&gt; {a:.3f}（折外）；{use}。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="362"/>
        <source>in use</source>
        <translation>已启用</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="362"/>
        <source>not used</source>
        <translation>未启用</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/quality_panel.py" line="366"/>
        <source>Not refitted yet: the shipped confidence is in use.</source>
        <translation>尚未重新拟合：使用随附的置信度。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="717"/>
        <source>Saved: the placement of post {post} is {verdict}.</source>
        <translation>已保存：帖子 {post} 的定位为{verdict}。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="717"/>
        <source>right</source>
        <translation>正确</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_dock.py" line="717"/>
        <source>wrong</source>
        <translation>错误</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="166"/>
        <source>Segmentation model folder (MaskFormer ADE20k or DETR panoptic)</source>
        <translation>分割模型文件夹（MaskFormer ADE20k 或 DETR 全景分割）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="184"/>
        <source>Fast first pass that ranks the top k (none: match them all)</source>
        <translation>对前 k 个候选先做快速排序的匹配器（none：全部匹配）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="186"/>
        <source>Candidates the first pass hands to the matcher</source>
        <translation>快速初筛交给匹配器的候选数</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="293"/>
        <source>Refit geolocation confidence from analysts&apos; verdicts</source>
        <translation>根据分析员判定重新拟合地理定位置信度</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="295"/>
        <source>Refits the logistic that turns match evidence (inliers, inlier ratio) into a geolocation confidence from the analysts&apos; verdicts on placements (right place / wrong place in the Verify dock&apos;s match view). Reports the expected calibration error of the model in use and of the refit (cross-validated, out of fold), stores the refit with its version, and uses it for later geolocation runs only when it is better calibrated. With fewer than 30 verdicts, or fewer than 5 of either kind, the model in use stays and the log says how many more verdicts are needed.</source>
        <translation>根据分析员对定位的判定（核查面板匹配视图中的“位置正确 / 位置错误”），重新拟合将匹配证据（内点数、内点比例）转换为地理定位置信度的逻辑回归。报告当前模型与重新拟合模型（交叉验证，折外）的期望校准误差，按版本保存重新拟合结果，且仅在其校准更好时用于之后的地理定位运行。判定少于 30 条，或任一类少于 5 条时，保留当前模型，日志说明还需要多少条判定。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="307"/>
        <source>Refit version</source>
        <translation>重新拟合版本</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="308"/>
        <source>Calibration error before</source>
        <translation>之前的校准误差</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="309"/>
        <source>Calibration error after (out of fold)</source>
        <translation>之后的校准误差（折外）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/geoloc_algorithms.py" line="310"/>
        <source>Refit in use (1) or not (0)</source>
        <translation>重新拟合已启用（1）或未启用（0）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/retrieval_algorithms.py" line="31"/>
        <source>Indexes the image embeddings of every photo whose post has a trusted location (GPS or EXIF) in a vector index kept beside the store (updated incrementally, rebuilt when the embedding model changes). Each unlocated photo gets its k nearest neighbours; from them a location probability raster (a similarity-weighted kernel, summing to 1), a point estimate and the radius holding 68% of the probability. Neighbours spread over the area give a large radius and a flat raster. The rasters (in the given folder, else in the store&apos;s photo cache) are added to the map below the points, transparent where the probability is zero; a new run replaces them.</source>
        <translation>将帖子位置可信（GPS 或 EXIF）的每张照片的图像嵌入放入存储旁的向量索引（增量更新，嵌入模型改变时重建）。每张未定位的照片取其 k 个最近邻；由此生成位置概率栅格（按相似度加权的核，总和为 1）、点估计以及包含 68% 概率的半径。近邻分散在整个区域时，半径大、栅格平坦。概率栅格（写入指定文件夹，否则写入存储的照片缓存）添加到地图中点图层下方，概率为零处透明；再次运行会替换它们。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/retrieval_algorithms.py" line="80"/>
        <source>Location probability, photo {fid}</source>
        <translation>位置概率，照片 {fid}</translation>
    </message>
    <message>
        <location filename="../mist_qgis/processing_provider/retrieval_algorithms.py" line="83"/>
        <source>{n} probability rasters written; the first {m} are added to the map.</source>
        <translation>已写入 {n} 个概率栅格；前 {m} 个已添加到地图。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/posts_dock.py" line="104"/>
        <source>store.gpkg (created if missing) or a team store</source>
        <translation>store.gpkg（不存在时自动创建）或团队数据库</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/posts_dock.py" line="209"/>
        <source>Choose a store (a .gpkg file, created if missing, or a team store).</source>
        <translation>请选择数据库（.gpkg 文件，不存在时自动创建；或团队数据库）。</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/browser_items.py" line="82"/>
        <source>{name} (active)</source>
        <translation>{name}（当前）</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/browser_items.py" line="113"/>
        <source>MIST stores: the active store and the ones used recently</source>
        <translation>MIST 存储：当前存储和最近使用的存储</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_keys.py" line="103"/>
        <source>Undo verdict</source>
        <translation>撤销判定</translation>
    </message>
    <message>
        <location filename="../mist_qgis/gui/verify_keys.py" line="105"/>
        <source>Take back the latest verdict of the MIST Verify dock</source>
        <translation>撤销 MIST 核验面板中最近一次判定</translation>
    </message>
</context>
</TS>
