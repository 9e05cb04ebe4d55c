<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.28.0-Firenze" styleCategories="AllStyleCategories" hasScaleBasedVisibilityFlag="0" minScale="1e+08" maxScale="0">
  <customproperties>
    <Option type="Map">
      <Option type="QString" name="gridcarbon/label" value="Cement and lime" />
      <Option type="QString" name="gridcarbon/overviews" value="overviews hold sums: a zoomed-out pixel shows the t CO2/yr of all the cells it covers" />
      <Option type="QString" name="identify/format" value="Value" />
    </Option>
  </customproperties>
  <pipe>
    <rasterrenderer type="singlebandpseudocolor" band="1" opacity="1" alphaBand="-1" nodataColor="" classificationMin="0" classificationMax="100000000">
      <rasterTransparency />
      <minMaxOrigin>
        <limits>None</limits>
        <extent>WholeRaster</extent>
        <statAccuracy>Estimated</statAccuracy>
        <cumulativeCutLower>0.02</cumulativeCutLower>
        <cumulativeCutUpper>0.98</cumulativeCutUpper>
        <stdDevFactor>2</stdDevFactor>
      </minMaxOrigin>
      <rastershader>
        <colorrampshader colorRampType="INTERPOLATED" classificationMode="1" clip="0" minimumValue="0" maximumValue="100000000" labelPrecision="0">
          <colorramp type="gradient" name="[source]">
            <Option type="Map">
              <Option type="QString" name="color1" value="252,253,191,255" />
              <Option type="QString" name="color2" value="0,0,4,255" />
              <Option type="QString" name="discrete" value="0" />
              <Option type="QString" name="rampType" value="gradient" />
              <Option type="QString" name="stops" value="0.111111;252,253,191,255:0.222222;254,194,135,255:0.333333;251,135,97,255:0.444444;229,80,100,255:0.555556;181,54,122,255:0.666667;129,37,129,255:0.777778;79,18,123,255:0.888889;28,16,68,255" />
            </Option>
          </colorramp>
          <item alpha="0" value="0" color="#fcfdbf" label="0 t" />
          <item alpha="255" value="10000" color="#fcfdbf" label="1e4 t" />
          <item alpha="255" value="31622.7766" color="#fec287" label="3.2e4 t" />
          <item alpha="255" value="100000" color="#fb8761" label="1e5 t" />
          <item alpha="255" value="316227.766" color="#e55064" label="3.2e5 t" />
          <item alpha="255" value="1000000" color="#b5367a" label="1e6 t" />
          <item alpha="255" value="3162277.66" color="#812581" label="3.2e6 t" />
          <item alpha="255" value="10000000" color="#4f127b" label="1e7 t" />
          <item alpha="255" value="31622776.6" color="#1c1044" label="3.2e7 t" />
          <item alpha="255" value="100000000" color="#000004" label="1e8 t" />
        </colorrampshader>
      </rastershader>
    </rasterrenderer>
    <brightnesscontrast gamma="1" brightness="0" contrast="0" />
    <huesaturation colorizeBlue="128" grayscaleMode="0" invertColors="0" colorizeRed="255" colorizeGreen="128" colorizeStrength="100" saturation="0" colorizeOn="0" />
    <rasterresampler maxOversampling="2" />
    <resamplingStage>resamplingFilter</resamplingStage>
  </pipe>
  <blendMode>0</blendMode>
</qgis>
